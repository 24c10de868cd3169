// SPDX-License-Identifier: GPL-3.0-or-later
#include "nn/blocks.h"

#include <cmath>
#include <limits>

#include "dglm/error.h"

namespace dglm::nn {

torch::nn::Linear bias_free_linear(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
}

torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                     const torch::Tensor& bias, const torch::Tensor& allowed) {
  auto scores = torch::matmul(query, key.transpose(-2, -1)) / std::sqrt(static_cast<double>(query.size(-1)));
  if (bias.defined()) scores = scores + bias;
  if (allowed.defined()) scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return torch::matmul(torch::softmax(scores, -1), value);
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

SwiGLUImpl::SwiGLUImpl(int64_t dim, int64_t hidden) {
  gate = register_module("gate", bias_free_linear(dim, hidden));
  up = register_module("up", bias_free_linear(dim, hidden));
  down = register_module("down", bias_free_linear(hidden, dim));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  return down(torch::silu(gate(x)) * up(x));
}

SelfAttentionImpl::SelfAttentionImpl(int64_t dim, int64_t heads) : heads(heads) {
  if (heads <= 0 || dim % heads != 0)
    throw Error(ErrorKind::InvalidArgument, "attention width " + std::to_string(dim) +
                                                " is not divisible by " + std::to_string(heads) + " heads");
  qkv = register_module("qkv", bias_free_linear(dim, 3 * dim));
  out = register_module("out", bias_free_linear(dim, dim));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias,
                                         const torch::Tensor& key_mask) {
  const int64_t batch = x.size(0), length = x.size(1), dim = x.size(2);
  const int64_t head_dim = dim / heads;
  // [B,T,3,H,hd] -> three [B,H,T,hd]
  auto qkv_heads = qkv(x).view({batch, length, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  const auto key_allowed = key_mask.defined() ? key_mask.view({batch, 1, 1, length}) : torch::Tensor();
  auto mixed = attend(qkv_heads[0], qkv_heads[1], qkv_heads[2], bias, key_allowed);
  return out(mixed.transpose(1, 2).reshape({batch, length, dim}));
}

NoiseLevelEmbeddingImpl::NoiseLevelEmbeddingImpl(int64_t dim) : dim(dim) {
  if (dim <= 0 || dim % 2 != 0)
    throw Error(ErrorKind::InvalidArgument,
                "noise-level embedding width must be even and positive, got " + std::to_string(dim));
  fc1 = register_module("fc1", torch::nn::Linear(dim, dim));
  fc2 = register_module("fc2", torch::nn::Linear(dim, dim));
}

torch::Tensor NoiseLevelEmbeddingImpl::forward(const torch::Tensor& alpha_bar) {
  // Transformer-style sinusoids; alpha_bar is scaled to [0, 1000] so that the frequencies resolve it.
  const int64_t half = dim / 2;
  auto frequencies = torch::exp(torch::arange(half, alpha_bar.options().dtype(torch::kFloat)) *
                                (-std::log(10000.0) / static_cast<double>(half)));
  auto angles = (alpha_bar.to(torch::kFloat) * 1000.0).unsqueeze(1) * frequencies.unsqueeze(0);
  auto sinusoids = torch::cat({torch::sin(angles), torch::cos(angles)}, 1);
  return fc2(torch::silu(fc1(sinusoids)));
}

ConditionedBlockImpl::ConditionedBlockImpl(int64_t dim, int64_t heads, int64_t ff_hidden) {
  norm1 = register_module("norm1", RMSNorm(dim));
  attn = register_module("attn", SelfAttention(dim, heads));
  norm2 = register_module("norm2", RMSNorm(dim));
  ff = register_module("ff", SwiGLU(dim, ff_hidden));
  modulation = register_module("modulation", torch::nn::Linear(dim, 4 * dim));
  torch::NoGradGuard no_grad;
  modulation->weight.zero_();
  modulation->bias.zero_();
}

torch::Tensor ConditionedBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  // SiLU first, as in DiT's adaLN: the conditioning MLP ends in a linear layer.
  auto parts = modulation(torch::silu(cond)).unsqueeze(1).chunk(4, -1);
  const auto &scale1 = parts[0], &shift1 = parts[1], &scale2 = parts[2], &shift2 = parts[3];
  auto h = x + attn(norm1(x) * (1 + scale1) + shift1);
  return h + ff(norm2(h) * (1 + scale2) + shift2);
}

}  // namespace dglm::nn
