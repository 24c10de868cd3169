// SPDX-License-Identifier: GPL-3.0-or-later
// Turns a (re-noised) proposal latent into P soft-prompt vectors in the decoder's embedding space.
#pragma once

#include "dglm/model.h"
#include "nn/blocks.h"

namespace dglm::nn {

struct PromptGeneratorImpl : torch::nn::Module {
  PromptGeneratorImpl(const PromptConfig& config, int64_t latent_dim, int64_t decoder_dim);
  // latent [B,D] standardised (noised at alpha_bar); alpha_bar [B] -> [B, P, decoder_dim]
  torch::Tensor forward(const torch::Tensor& latent, const torch::Tensor& alpha_bar);
  PromptConfig config;
  torch::Tensor positions;  // [P, d_model]
  torch::nn::Linear latent_in{nullptr};  // D -> P * d_model
  NoiseLevelEmbedding noise_embedding{nullptr};
  torch::nn::ModuleList blocks{nullptr};  // ConditionedBlock x n_layers
  RMSNorm final_norm{nullptr};
  torch::nn::Linear out{nullptr};  // d_model -> decoder_dim
};
TORCH_MODULE(PromptGenerator);

}  // namespace dglm::nn
