// SPDX-License-Identifier: GPL-3.0-or-later
// GPT-2 shaped decoder: learned positions, pre-LayerNorm blocks, causal attention, GELU MLP, tied embeddings,
// and a key/value cache for incremental decoding.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "dglm/model.h"

namespace dglm::nn {

// Keys and values of every layer for the positions seen so far: [B, heads, T, head_dim] each.
struct KVCache {
  std::vector<torch::Tensor> keys, values;
  int64_t length() const { return keys.empty() ? 0 : keys.front().size(2); }
  void clear() { keys.clear(); values.clear(); }
};

// One GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(x)), with causal attention over cached and new keys.
struct DecoderBlockImpl : torch::nn::Module {
  DecoderBlockImpl(int64_t dim, int64_t heads);
  // x [B,T,d]; allowed [T, past+T] bool (true = query may see key). keys/values [B,H,past,hd] (undefined
  // when past = 0) are replaced by the concatenation with this step's.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed, torch::Tensor& keys,
                        torch::Tensor& values);
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  torch::nn::Linear qkv{nullptr}, attn_proj{nullptr};  // attn_proj and mlp_proj are residual projections
  torch::nn::Linear mlp_fc{nullptr}, mlp_proj{nullptr};
  int64_t heads;
};
TORCH_MODULE(DecoderBlock);

struct DecoderImpl : torch::nn::Module {
  DecoderImpl(const DecoderConfig& config, int64_t vocab_size);
  torch::Tensor embed_tokens(const torch::Tensor& ids);  // [B,T] int64 -> [B,T,d]
  // x [B,T,d] input embeddings for positions [past, past+T) where past = cache ? cache->length() : 0;
  // appends this step's keys/values to the cache. Returns logits [B,T,vocab]. Throws Error(InvalidArgument)
  // when past + T exceeds the context.
  torch::Tensor forward(const torch::Tensor& x, KVCache* cache = nullptr);
  DecoderConfig config;
  int64_t vocab_size;
  torch::nn::Embedding wte{nullptr};  // token embeddings [V, d], tied to the output projection
  torch::nn::Embedding wpe{nullptr};  // positions [context, d]
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace dglm::nn
