// SPDX-License-Identifier: GPL-3.0-or-later
#include "nn/decoder.h"

#include <cmath>
#include <string>

#include <torch/nn/init.h>

#include "dglm/error.h"
#include "nn/blocks.h"

namespace dglm::nn {

namespace {

torch::nn::LayerNorm layer_norm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
}

}  // namespace

DecoderBlockImpl::DecoderBlockImpl(int64_t dim, int64_t heads) : heads(heads) {
  if (heads <= 0 || dim % heads != 0)
    throw Error(ErrorKind::InvalidArgument, "decoder width " + std::to_string(dim) + " is not divisible by " +
                                                std::to_string(heads) + " heads");
  ln_1 = register_module("ln_1", layer_norm(dim));
  qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  attn_proj = register_module("attn_proj", torch::nn::Linear(dim, dim));
  ln_2 = register_module("ln_2", layer_norm(dim));
  mlp_fc = register_module("mlp_fc", torch::nn::Linear(dim, 4 * dim));
  mlp_proj = register_module("mlp_proj", torch::nn::Linear(4 * dim, dim));
}

torch::Tensor DecoderBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed, torch::Tensor& keys,
                                        torch::Tensor& values) {
  const int64_t batch = x.size(0), length = x.size(1), dim = x.size(2);
  const int64_t head_dim = dim / heads;
  auto qkv_heads = qkv(ln_1(x)).view({batch, length, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  auto query = qkv_heads[0];
  keys = keys.defined() ? torch::cat({keys, qkv_heads[1]}, 2) : qkv_heads[1];
  values = values.defined() ? torch::cat({values, qkv_heads[2]}, 2) : qkv_heads[2];

  auto mixed = attend(query, keys, values, /*bias=*/{}, allowed).transpose(1, 2).reshape({batch, length, dim});
  auto h = x + attn_proj(mixed);
  return h + mlp_proj(torch::gelu(mlp_fc(ln_2(h)), "tanh"));
}

DecoderImpl::DecoderImpl(const DecoderConfig& config, int64_t vocab_size)
    : config(config), vocab_size(vocab_size) {
  const int64_t d = config.d_model;
  wte = register_module("wte", torch::nn::Embedding(vocab_size, d));
  wpe = register_module("wpe", torch::nn::Embedding(config.context, d));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config.n_layers; ++i) blocks->push_back(DecoderBlock(d, config.n_heads));
  ln_f = register_module("ln_f", layer_norm(d));

  // GPT-2 initialisation; the residual projections are scaled down so that the residual stream's variance
  // does not grow with depth.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0.0, 0.02);
      torch::nn::init::zeros_(linear->bias);
    } else if (auto* embedding = module->as<torch::nn::Embedding>()) {
      torch::nn::init::normal_(embedding->weight, 0.0, 0.02);
    }
  }
  const double residual_std = 0.02 / std::sqrt(2.0 * config.n_layers);
  for (const auto& block : *blocks) {
    torch::nn::init::normal_(block->as<DecoderBlock>()->attn_proj->weight, 0.0, residual_std);
    torch::nn::init::normal_(block->as<DecoderBlock>()->mlp_proj->weight, 0.0, residual_std);
  }
}

torch::Tensor DecoderImpl::embed_tokens(const torch::Tensor& ids) { return wte(ids); }

torch::Tensor DecoderImpl::forward(const torch::Tensor& x, KVCache* cache) {
  const int64_t past = cache ? cache->length() : 0;
  const int64_t length = x.size(1);
  if (past + length > config.context)
    throw Error(ErrorKind::InvalidArgument, "decoder input of " + std::to_string(past + length) +
                                                " positions exceeds the context of " +
                                                std::to_string(config.context));
  if (cache && cache->keys.empty()) {
    cache->keys.resize(blocks->size());
    cache->values.resize(blocks->size());
  }

  // New query i sits at absolute position past + i and may see keys 0 .. past + i.
  auto options = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  auto query_positions = torch::arange(past, past + length, options).unsqueeze(1);
  auto allowed = torch::arange(past + length, options).unsqueeze(0) <= query_positions;

  auto h = x + wpe->weight.narrow(0, past, length);
  for (size_t layer = 0; layer < blocks->size(); ++layer) {
    torch::Tensor uncached_keys, uncached_values;
    auto& keys = cache ? cache->keys[layer] : uncached_keys;
    auto& values = cache ? cache->values[layer] : uncached_values;
    h = blocks[layer]->as<DecoderBlock>()->forward(h, allowed, keys, values);
  }
  return torch::matmul(ln_f(h), wte->weight.t());
}

}  // namespace dglm::nn
