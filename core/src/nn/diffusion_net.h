// SPDX-License-Identifier: GPL-3.0-or-later
// The diffusion network: predicts v for a noisy latent given the prefix embedding and the noise level.
#pragma once

#include "dglm/model.h"
#include "nn/blocks.h"

namespace dglm::nn {

struct DiffusionNetImpl : torch::nn::Module {
  DiffusionNetImpl(const DiffusionConfig& config, int64_t latent_dim);
  // z [B,D] noisy standardised latent; cond [B,D] standardised prefix embedding; alpha_bar [B] in (0,1);
  // use_null [B] bool: where true, cond is replaced by the learned null embedding (classifier-free guidance).
  // Returns v [B,D].
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& cond, const torch::Tensor& alpha_bar,
                        const torch::Tensor& use_null);
  DiffusionConfig config;
  torch::Tensor null_embedding;  // [D]
  torch::Tensor positions;       // [L, d_model]
  torch::nn::Linear latent_in{nullptr}, cond_in{nullptr};  // D -> L * splice_dim
  torch::nn::Linear token_in{nullptr};                      // 2 * splice_dim -> d_model
  NoiseLevelEmbedding noise_embedding{nullptr};
  torch::nn::ModuleList blocks{nullptr};                    // ConditionedBlock x n_layers
  torch::nn::ModuleList skip_projections{nullptr};          // Linear(2 d_model -> d_model) x n_layers / 2
  RMSNorm final_norm{nullptr};
  torch::nn::Linear token_out{nullptr};                     // d_model -> splice_dim
  torch::nn::Linear latent_out{nullptr};                    // L * splice_dim -> D
};
TORCH_MODULE(DiffusionNet);

}  // namespace dglm::nn
