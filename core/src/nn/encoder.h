// SPDX-License-Identifier: GPL-3.0-or-later
// Sentence-T5 shaped semantic encoder: T5 encoder (RMSNorm, relative position buckets shared by all layers,
// ReLU feed-forward, no biases), mean pooling over real tokens, linear projection, L2 normalisation.
#pragma once

#include "dglm/model.h"
#include "nn/blocks.h"

namespace dglm::nn {

struct SemanticEncoderImpl : torch::nn::Module {
  SemanticEncoderImpl(const EncoderConfig& config, int64_t vocab_size, int64_t latent_dim);
  // ids [B,T] int64, mask [B,T] bool (true = real token) -> [B, latent_dim] with unit L2 norm.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  EncoderConfig config;
};
TORCH_MODULE(SemanticEncoder);

// T5's bucketing of relative positions (bidirectional): exact buckets for small distances, logarithmic
// beyond, capped at max_distance. Exposed for tests.
torch::Tensor relative_position_buckets(int64_t length, int64_t num_buckets, int64_t max_distance);

}  // namespace dglm::nn
