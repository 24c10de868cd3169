// SPDX-License-Identifier: GPL-3.0-or-later
#include "nn/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace dglm::nn {

namespace {

// T5's bidirectional bucket of one relative position (key - query). Half of the buckets are for keys to the
// right; within each half, distances below max_exact get their own bucket and the rest share logarithmically
// wider buckets up to max_distance. Computed in double so that bucket edges such as 2 * max_exact are exact.
int64_t relative_position_bucket(int64_t relative, int64_t num_buckets, int64_t max_distance) {
  const int64_t half = num_buckets / 2;
  const int64_t max_exact = half / 2;
  const int64_t offset = relative > 0 ? half : 0;
  const int64_t distance = std::abs(relative);
  if (distance < max_exact) return offset + distance;
  const double log_ratio = std::log(static_cast<double>(distance) / max_exact) /
                           std::log(static_cast<double>(max_distance) / max_exact);
  const auto wide = max_exact + static_cast<int64_t>(log_ratio * static_cast<double>(half - max_exact));
  return offset + std::min(wide, half - 1);
}

}  // namespace

torch::Tensor relative_position_buckets(int64_t length, int64_t num_buckets, int64_t max_distance) {
  auto buckets = torch::empty({length, length}, torch::kLong);
  auto cells = buckets.accessor<int64_t, 2>();
  for (int64_t query = 0; query < length; ++query)
    for (int64_t key = 0; key < length; ++key)
      cells[query][key] = relative_position_bucket(key - query, num_buckets, max_distance);
  return buckets;
}

EncoderLayerImpl::EncoderLayerImpl(int64_t dim, int64_t heads, int64_t d_ff) {
  attention_norm = register_module("attention_norm", RMSNorm(dim));
  attention = register_module("attention", SelfAttention(dim, heads));
  ff_norm = register_module("ff_norm", RMSNorm(dim));
  ff_in = register_module("ff_in", bias_free_linear(dim, d_ff));
  ff_out = register_module("ff_out", bias_free_linear(d_ff, dim));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& position_bias,
                                        const torch::Tensor& mask) {
  auto h = x + attention(attention_norm(x), position_bias, mask);
  return h + ff_out(torch::relu(ff_in(ff_norm(h))));
}

SemanticEncoderImpl::SemanticEncoderImpl(const EncoderConfig& config, int64_t vocab_size, int64_t latent_dim)
    : config(config) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(vocab_size, config.d_model));
  relative_attention_bias = register_module("relative_attention_bias",
                                            torch::nn::Embedding(config.relative_buckets, config.n_heads));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < config.n_layers; ++i)
    layers->push_back(EncoderLayer(config.d_model, config.n_heads, config.d_ff));
  final_norm = register_module("final_norm", RMSNorm(config.d_model));
  projection = register_module("projection", bias_free_linear(config.d_model, latent_dim));
  if (config.bag_of_pieces_scale > 0) {
    // Zero, so that the branch starts as a no-op on an encoder trained without it.
    bag_of_pieces = register_module("bag_of_pieces", torch::nn::Embedding(vocab_size, config.d_model));
    torch::NoGradGuard no_grad;
    bag_of_pieces->weight.zero_();
  }
}

torch::Tensor SemanticEncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  const int64_t length = ids.size(1);
  auto buckets = relative_position_buckets(length, config.relative_buckets, config.relative_max_distance)
                     .to(ids.device());
  auto position_bias = relative_attention_bias(buckets).permute({2, 0, 1});  // [H, T, T]

  auto x = token_embedding(ids);
  for (const auto& layer : *layers) x = layer->as<EncoderLayer>()->forward(x, position_bias, mask);
  x = final_norm(x);

  const auto weights = mask.unsqueeze(-1).to(x.dtype());
  const auto real_tokens = weights.sum(1).clamp_min(1.0);
  auto pooled = (x * weights).sum(1) / real_tokens;
  if (bag_of_pieces)
    pooled = pooled + config.bag_of_pieces_scale * (bag_of_pieces(ids) * weights).sum(1) / real_tokens;
  auto embedding = projection(pooled);
  return embedding / embedding.norm(2, -1, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace dglm::nn
