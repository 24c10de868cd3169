// SPDX-License-Identifier: GPL-3.0-or-later
// Token files written by tokenize_corpus, loaded for training.
#pragma once

#include <string>

#include <torch/types.h>

namespace dglm::train {

struct TokenFile {
  torch::Tensor tokens;     // [N] int32, EOS after each document
  torch::Tensor documents;  // [D] int64 start offsets
  int bos_id = 0, eos_id = 0, vocab_size = 0;
};

// Throws Error naming the file when it is not a token file or holds ids outside [0, vocab_size).
TokenFile load_token_file(const std::string& path);

}  // namespace dglm::train
