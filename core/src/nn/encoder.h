// SPDX-License-Identifier: GPL-3.0-or-later
// Sentence-T5 shaped semantic encoder: T5 encoder (RMSNorm, relative position buckets shared by all layers,
// ReLU feed-forward, no biases), mean pooling over real tokens (plus the optional bag-of-pieces branch of
// EncoderConfig), linear projection, L2 normalisation.
#pragma once

#include <torch/nn/modules/embedding.h>

#include "dglm/model.h"
#include "nn/blocks.h"

namespace dglm::nn {

// One T5 encoder layer: RMSNorm -> attention with the shared position bias -> residual,
// RMSNorm -> ReLU feed-forward -> residual.
struct EncoderLayerImpl : torch::nn::Module {
  EncoderLayerImpl(int64_t dim, int64_t heads, int64_t d_ff);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& position_bias, const torch::Tensor& mask);
  RMSNorm attention_norm{nullptr}, ff_norm{nullptr};
  SelfAttention attention{nullptr};
  torch::nn::Linear ff_in{nullptr}, ff_out{nullptr};
};
TORCH_MODULE(EncoderLayer);

struct SemanticEncoderImpl : torch::nn::Module {
  SemanticEncoderImpl(const EncoderConfig& config, int64_t vocab_size, int64_t latent_dim);
  // ids [B,T] int64, mask [B,T] bool (true = real token) -> [B, latent_dim] with unit L2 norm.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  EncoderConfig config;
  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};  // [num_buckets, heads], shared by all layers
  torch::nn::ModuleList layers{nullptr};
  RMSNorm final_norm{nullptr};
  torch::nn::Linear projection{nullptr};  // pooled d_model -> latent_dim
  torch::nn::Embedding bag_of_pieces{nullptr};  // [vocab, d_model], zero at the start; null without the branch
};
TORCH_MODULE(SemanticEncoder);

// T5's bucketing of relative positions (bidirectional): exact buckets for small distances, logarithmic
// beyond, capped at max_distance. Exposed for tests.
torch::Tensor relative_position_buckets(int64_t length, int64_t num_buckets, int64_t max_distance);

}  // namespace dglm::nn
