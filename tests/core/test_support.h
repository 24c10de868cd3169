// SPDX-License-Identifier: GPL-3.0-or-later
// Fixtures shared by the core tests: temporary folders and a SentencePiece model trained on the spot.
#pragma once

#include <string>

namespace dglm::test {

// A fresh folder under the system temp dir, removed at process exit.
std::string temp_dir();

// A few KB of plain English sentences, deterministic.
std::string sample_text();

// Trains (once per process) a small unigram SentencePiece model on sample_text(); returns the .model path.
std::string test_tokenizer_model();

}  // namespace dglm::test
