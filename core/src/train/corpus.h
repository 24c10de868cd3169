// SPDX-License-Identifier: GPL-3.0-or-later
// Token files written by tokenize_corpus, loaded for training.
#pragma once

#include <algorithm>
#include <string>

#include <torch/types.h>

#include "dglm/model.h"

namespace dglm::train {

struct TokenFile {
  torch::Tensor tokens;     // [N] int32, EOS after each document
  torch::Tensor documents;  // [D] int64 start offsets
  int bos_id = 0, eos_id = 0, vocab_size = 0;
};

// Throws Error naming the file when it is not a token file or holds ids outside [0, vocab_size).
TokenFile load_token_file(const std::string& path);
// load_token_file, and an Error unless the file was tokenised for config's vocabulary and holds min_tokens.
TokenFile load_token_file_for(const std::string& path, const ModelConfig& config, int64_t min_tokens);

// Spans of a token stream as a padded batch for the semantic encoder: ids [B, width] int64 (0 past a span's end,
// where the mask hides it), mask [B, width] bool. starts/lengths [B] int64, every length in [1, width].
struct SpanBatch {
  torch::Tensor ids, mask;
};
SpanBatch gather_spans(const torch::Tensor& tokens, const torch::Tensor& starts, const torch::Tensor& lengths,
                       int64_t width);

// An integer in [0, n) from a uniform draw u in [0, 1) (clamped: a float draw can round up to 1).
inline int64_t uniform_index(double u, int64_t n) {
  return std::min(n - 1, static_cast<int64_t>(u * static_cast<double>(n)));
}

// Token counts of the documents [D] int64, their closing EOS excluded.
torch::Tensor document_lengths(const TokenFile& file);

}  // namespace dglm::train
