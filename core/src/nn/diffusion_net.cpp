// SPDX-License-Identifier: GPL-3.0-or-later
#include "nn/diffusion_net.h"

#include <vector>

#include "dglm/error.h"

namespace dglm::nn {

DiffusionNetImpl::DiffusionNetImpl(const DiffusionConfig& config, int64_t latent_dim) : config(config) {
  if (config.n_layers <= 0 || config.n_layers % 2 != 0)
    throw Error(ErrorKind::InvalidArgument, "the diffusion network needs an even number of layers for its "
                                            "long skips, got " + std::to_string(config.n_layers));
  const int64_t d = config.d_model;
  const int64_t spliced = int64_t{config.splice_tokens} * config.splice_dim;
  null_embedding = register_parameter("null_embedding", torch::randn({latent_dim}) * 0.02);
  positions = register_parameter("positions", torch::randn({config.splice_tokens, d}) * 0.02);
  latent_in = register_module("latent_in", torch::nn::Linear(latent_dim, spliced));
  cond_in = register_module("cond_in", torch::nn::Linear(latent_dim, spliced));
  token_in = register_module("token_in", torch::nn::Linear(2 * config.splice_dim, d));
  noise_embedding = register_module("noise_embedding", NoiseLevelEmbedding(d));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config.n_layers; ++i) blocks->push_back(ConditionedBlock(d, config.n_heads, 4 * d));
  skip_projections = register_module("skip_projections", torch::nn::ModuleList());
  for (int i = 0; i < config.n_layers / 2; ++i) skip_projections->push_back(torch::nn::Linear(2 * d, d));
  final_norm = register_module("final_norm", RMSNorm(d));
  token_out = register_module("token_out", torch::nn::Linear(d, config.splice_dim));
  latent_out = register_module("latent_out", torch::nn::Linear(spliced, latent_dim));
}

torch::Tensor DiffusionNetImpl::forward(const torch::Tensor& z, const torch::Tensor& cond,
                                        const torch::Tensor& alpha_bar, const torch::Tensor& use_null) {
  const int64_t batch = z.size(0);
  const int64_t tokens = config.splice_tokens, splice_dim = config.splice_dim;
  auto guided_cond = torch::where(use_null.view({batch, 1}), null_embedding.expand_as(cond), cond);

  auto latent_tokens = latent_in(z).view({batch, tokens, splice_dim});
  auto cond_tokens = cond_in(guided_cond).view({batch, tokens, splice_dim});
  auto x = token_in(torch::cat({latent_tokens, cond_tokens}, -1)) + positions;
  auto noise = noise_embedding(alpha_bar);

  const size_t half = blocks->size() / 2;
  std::vector<torch::Tensor> skips;
  for (size_t i = 0; i < blocks->size(); ++i) {
    if (i >= half) {  // second half: merge the mirrored first-half activation
      x = skip_projections[i - half]->as<torch::nn::Linear>()->forward(torch::cat({x, skips.back()}, -1));
      skips.pop_back();
    }
    x = blocks[i]->as<ConditionedBlock>()->forward(x, noise);
    if (i < half) skips.push_back(x);
  }
  auto out_tokens = token_out(final_norm(x));  // [B, L, splice_dim]
  return latent_out(out_tokens.reshape({batch, tokens * splice_dim}));
}

}  // namespace dglm::nn
