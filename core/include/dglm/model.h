// SPDX-License-Identifier: GPL-3.0-or-later
// A model directory (config.json, tokenizer, four weight files, probes/) opened for inference.
// The format is documented in models/README.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dglm/runtime.h"

namespace dglm {

inline constexpr int kModelFormatVersion = 1;

struct EncoderConfig {       // Sentence-T5 shaped
  int d_model = 128;
  int n_layers = 2;
  int n_heads = 4;
  int d_ff = 256;
  int max_tokens = 64;       // longer texts are truncated (from the left for prefixes)
  int relative_buckets = 32;
  int relative_max_distance = 128;
  // > 0: a bag-of-pieces branch, a learned vector per piece whose mean over the text, times this scale, is added
  // to the pooled state. It keeps word-level cues (sentiment) that span training washes out. The scale sets how
  // fast the branch can matter (Adam moves each weight by about the learning rate per step); 0: no branch.
  double bag_of_pieces_scale = 0;
};

struct DiffusionConfig {
  int d_model = 128;
  int n_layers = 4;          // even: the first half's activations skip to the second half
  int n_heads = 4;
  int splice_tokens = 16;    // L: the latent and the prefix embedding are each spliced into L tokens
  int splice_dim = 32;       // feature size of one spliced token
};

struct PromptConfig {
  int d_model = 128;
  int n_layers = 2;
  int n_heads = 4;
  int prompt_tokens = 8;     // P soft prompts
};

struct DecoderConfig {       // GPT-2 shaped
  int d_model = 128;
  int n_layers = 2;
  int n_heads = 4;
  int context = 128;         // learned positions: prefix + prompt + continuation must fit
};

struct ModelConfig {
  int format_version = kModelFormatVersion;
  std::string name;
  std::string tokenizer_file = "tokenizer.model";
  int vocab_size = 0;
  int latent_dim = 64;
  EncoderConfig encoder;
  DiffusionConfig diffusion;
  PromptConfig prompt;
  DecoderConfig decoder;
  // Per-dimension statistics of encoder embeddings over the training corpus: x = (E(text) - mean) / std.
  std::vector<float> latent_mean;
  std::vector<float> latent_std;
};

// Throws Error(Corrupt/Incompatible) naming `source` and the offending field.
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);
std::string model_config_to_json(const ModelConfig& config);
// The most new tokens one DGLM call may ask of this model: the decoder's context less its start token and the
// soft prompts. More is rejected; the prefix is cut from the left to fit whatever room is left.
int max_new_tokens(const ModelConfig& config);

struct ProbeInfo {
  std::string name;                  // file stem in probes/, and the name guidance refers to
  std::string description;
  std::vector<std::string> classes;  // binary probes have two
  double heldout_accuracy = -1;      // -1: unknown
};

struct ModelPartInfo {
  std::string file;
  std::int64_t parameters = 0;
  std::int64_t bytes = 0;
  std::string xxh64;  // hex checksum of the file
};

struct ModelInfo {
  std::string directory;
  ModelConfig config;
  std::map<std::string, ModelPartInfo> parts;  // encoder, diffusion, prompt, decoder
  std::vector<ProbeInfo> probes;
};

// Reads config, checksums and probe metadata without building the networks (cheap; for `dglm info`).
ModelInfo inspect_model(const std::string& directory);

// Fraction done in [0, 1]; return false to cancel.
using ProgressFn = std::function<bool(float fraction)>;

class Model {
 public:
  // Throws Error: NotFound (missing files), Corrupt, Incompatible, Cancelled.
  static Model open(const std::string& directory, Device device = Device::Cpu,
                    const ProgressFn& progress = {});

  const ModelInfo& info() const;
  Device device() const;

  // Loads (or replaces) a probe from PATH.safetensors + PATH.json, e.g. a user probe outside the model.
  void add_probe(const std::string& path_without_extension);

  struct Impl;
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  explicit Model(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace dglm
