// SPDX-License-Identifier: GPL-3.0-or-later
#include "nn/prompt_generator.h"

namespace dglm::nn {

PromptGeneratorImpl::PromptGeneratorImpl(const PromptConfig& config, int64_t latent_dim, int64_t decoder_dim)
    : config(config) {
  const int64_t d = config.d_model;
  positions = register_parameter("positions", torch::randn({config.prompt_tokens, d}) * 0.02);
  latent_in = register_module("latent_in", torch::nn::Linear(latent_dim, config.prompt_tokens * d));
  noise_embedding = register_module("noise_embedding", NoiseLevelEmbedding(d));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config.n_layers; ++i) blocks->push_back(ConditionedBlock(d, config.n_heads, 4 * d));
  final_norm = register_module("final_norm", RMSNorm(d));
  out = register_module("out", torch::nn::Linear(d, decoder_dim));
}

torch::Tensor PromptGeneratorImpl::forward(const torch::Tensor& latent, const torch::Tensor& alpha_bar) {
  auto x = latent_in(latent).view({latent.size(0), config.prompt_tokens, config.d_model}) + positions;
  auto noise = noise_embedding(alpha_bar);
  for (const auto& block : *blocks) x = block->as<ConditionedBlock>()->forward(x, noise);
  return out(final_norm(x));
}

}  // namespace dglm::nn
