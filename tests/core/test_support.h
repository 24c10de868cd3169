// SPDX-License-Identifier: GPL-3.0-or-later
// Fixtures shared by the core tests: temporary folders and a SentencePiece model trained on the spot.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dglm/error.h"
#include "dglm/generator.h"

namespace dglm::test {

// A fresh folder under the system temp dir, removed at process exit.
std::string temp_dir();

// A few KB of plain English sentences, deterministic.
std::string sample_text();

// Trains (once per process) a small unigram SentencePiece model on sample_text(); returns the .model path.
std::string test_tokenizer_model();

}  // namespace dglm::test

namespace dglm {

// Fails the test unless fn throws dglm::Error of kind InvalidArgument. Header-only: tests that do not link
// test_support.cpp use it too.
template <typename Fn>
void expect_invalid_argument(Fn&& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected dglm::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument) << error.what();
  }
}

// Callbacks that append each streamed token's text to texts[sample] (sized by the caller: at() checks the index).
inline GenerateCallbacks streaming_into(std::vector<std::string>& texts) {
  GenerateCallbacks callbacks;
  callbacks.token = [&texts](int sample, const Token& token) {
    texts.at(static_cast<std::size_t>(sample)) += token.text;
  };
  return callbacks;
}

}  // namespace dglm
