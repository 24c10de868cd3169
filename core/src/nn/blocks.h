// SPDX-License-Identifier: GPL-3.0-or-later
// Building blocks shared by the encoder, the diffusion network and the prompt generator.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace dglm::nn {

// Linear layer without a bias (T5 and the attention/feed-forward layers here use none).
torch::nn::Linear bias_free_linear(int64_t in, int64_t out);

// softmax(query key^T / sqrt(head_dim) + bias) value over heads: query [B,H,T,hd], key/value [B,H,S,hd];
// bias broadcasts to [B,H,T,S] and `allowed` (bool, true = may attend) too; either may be undefined.
torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                     const torch::Tensor& bias, const torch::Tensor& allowed);

struct RMSNormImpl : torch::nn::Module {
  explicit RMSNormImpl(int64_t dim, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
struct SwiGLUImpl : torch::nn::Module {
  SwiGLUImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate{nullptr}, up{nullptr}, down{nullptr};
};
TORCH_MODULE(SwiGLU);

// Multi-head self-attention without masking (bidirectional); optional additive bias [H, T, T] or
// [B, H, T, T] and key padding mask [B, T] (true = real token).
struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(int64_t dim, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias = {},
                        const torch::Tensor& key_mask = {});
  torch::nn::Linear qkv{nullptr}, out{nullptr};
  int64_t heads;
};
TORCH_MODULE(SelfAttention);

// Sinusoidal embedding of (alpha_bar * 1000) followed by an MLP: the noise-level conditioning vector.
struct NoiseLevelEmbeddingImpl : torch::nn::Module {
  NoiseLevelEmbeddingImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& alpha_bar);  // [B] -> [B, dim]
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  int64_t dim;
};
TORCH_MODULE(NoiseLevelEmbedding);

// Pre-RMSNorm transformer block whose norms are adaptive: norm(x) * (1 + scale) + shift, with scale and
// shift projected from the conditioning vector by a zero-initialised linear layer (so a fresh block starts
// as a plain block).
struct ConditionedBlockImpl : torch::nn::Module {
  ConditionedBlockImpl(int64_t dim, int64_t heads, int64_t ff_hidden);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond);  // x [B,T,dim], cond [B,dim]
  RMSNorm norm1{nullptr}, norm2{nullptr};
  SelfAttention attn{nullptr};
  SwiGLU ff{nullptr};
  torch::nn::Linear modulation{nullptr};  // cond -> 4*dim: scale1, shift1, scale2, shift2
};
TORCH_MODULE(ConditionedBlock);

}  // namespace dglm::nn
