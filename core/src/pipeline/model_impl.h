// SPDX-License-Identifier: GPL-3.0-or-later
// What an open Model holds. Internal: the pipeline and the trainers share it.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "dglm/model.h"
#include "dglm/tokenizer.h"
#include "nn/decoder.h"
#include "nn/diffusion_net.h"
#include "nn/encoder.h"
#include "nn/prompt_generator.h"
#include "probes/logistic_probe.h"

namespace dglm {

// The files of a model directory (models/README.md).
struct ModelFiles {
  static constexpr const char* kConfig = "config.json";
  static constexpr const char* kEncoder = "encoder.safetensors";
  static constexpr const char* kDiffusion = "diffusion.safetensors";
  static constexpr const char* kPrompt = "prompt_generator.safetensors";
  static constexpr const char* kDecoder = "decoder.safetensors";
  static constexpr const char* kProbeDir = "probes";
};

struct Model::Impl {
  ModelInfo info;
  torch::Device device{torch::kCPU};
  std::unique_ptr<Tokenizer> tokenizer;
  nn::SemanticEncoder encoder{nullptr};
  nn::DiffusionNet diffusion{nullptr};
  nn::PromptGenerator prompt{nullptr};
  nn::Decoder decoder{nullptr};
  torch::Tensor latent_mean, latent_std;  // [D] on device
  std::map<std::string, LogisticProbe> probes;  // on device

  // Builds the four networks for `config` with fresh (random) weights, on the CPU.
  void build_networks(const ModelConfig& config);

  // Token ids of `text`, at most `max_tokens`; keep_end keeps the last ones (prefixes), else the first ones.
  // Sets *truncated when tokens were dropped.
  std::vector<int> tokens(const std::string& text, std::size_t max_tokens, bool keep_end, bool* truncated) const;

  // Unit-norm sentence embeddings [N, D] of texts (each truncated to the encoder's max_tokens).
  torch::Tensor embed(const std::vector<std::string>& texts, bool keep_end);
  torch::Tensor standardise(const torch::Tensor& unit) const { return (unit - latent_mean) / latent_std; }
  torch::Tensor unstandardise(const torch::Tensor& x) const { return x * latent_std + latent_mean; }
};

}  // namespace dglm
