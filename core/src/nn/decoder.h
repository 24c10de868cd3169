// SPDX-License-Identifier: GPL-3.0-or-later
// GPT-2 shaped decoder: learned positions, pre-LayerNorm blocks, causal attention, GELU MLP, tied embeddings,
// and a key/value cache for incremental decoding.
#pragma once

#include <vector>

#include "dglm/model.h"
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace dglm::nn {

// Keys and values of every layer for the positions seen so far: [B, heads, T, head_dim] each.
struct KVCache {
  std::vector<torch::Tensor> keys, values;
  int64_t length() const { return keys.empty() ? 0 : keys.front().size(2); }
  void clear() { keys.clear(); values.clear(); }
};

struct DecoderImpl : torch::nn::Module {
  DecoderImpl(const DecoderConfig& config, int64_t vocab_size);
  torch::Tensor embed_tokens(const torch::Tensor& ids);  // [B,T] int64 -> [B,T,d]
  // x [B,T,d] input embeddings for positions [past, past+T) where past = cache ? cache->length() : 0;
  // appends this step's keys/values to the cache. Returns logits [B,T,vocab]. Throws Error(InvalidArgument)
  // when past + T exceeds the context.
  torch::Tensor forward(const torch::Tensor& x, KVCache* cache = nullptr);
  DecoderConfig config;
  int64_t vocab_size;
};
TORCH_MODULE(Decoder);

}  // namespace dglm::nn
