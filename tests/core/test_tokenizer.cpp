// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <fstream>

#include <torch/types.h>

#include "dglm/error.h"
#include "dglm/tokenizer.h"
#include "test_support.h"

namespace dglm {
namespace {

TEST(Tokenizer, RoundTripsTextItWasTrainedOn) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  const std::string text = "The old sailor wrote about the green hills before sunrise.";
  const auto ids = tok->encode(text);
  ASSERT_FALSE(ids.empty());
  EXPECT_LT(ids.size(), text.size());  // pieces are longer than characters
  for (int id : ids) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, tok->vocab_size());
  }
  EXPECT_EQ(tok->decode(ids), text);
}

TEST(Tokenizer, RoundTripsUnseenWordsAndUnicode) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  const std::string text = "Zebras quietly cross. Crème brûlée!";
  // Characters never seen in training map to unk, so the round trip may lose them but must keep the seen ones.
  const auto decoded = tok->decode(tok->encode(text));
  EXPECT_NE(decoded.find("quiet"), std::string::npos);
}

TEST(Tokenizer, UsesTheProjectsSpecialIds) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->unk_id(), 1);
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->eos_id(), 3);
  EXPECT_GE(tok->vocab_size(), 60);
  EXPECT_EQ(tok->piece(tok->unk_id()), "<unk>");
}

TEST(Tokenizer, LongTextNeedsMoreIdsThanTheFirstGuess) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  const std::string text = test::sample_text();
  EXPECT_EQ(tok->decode(tok->encode(text)).size(), text.size() - 1);  // SentencePiece folds the final newline
}

TEST(Tokenizer, RejectsOutOfVocabularyIds) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  EXPECT_THROW(tok->decode({tok->vocab_size()}), Error);
  EXPECT_THROW(tok->piece(-1), Error);
}

TEST(Tokenizer, MissingAndCorruptModelFilesAreClearErrors) {
  try {
    load_sentencepiece("/nonexistent/tok.model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tok.model"), std::string::npos);
  }
  const auto bad = test::temp_dir() + "/bad.model";
  std::ofstream(bad) << "this is not a protobuf";
  try {
    load_sentencepiece(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
  }
}

// The reason the tokenizer lives in a plugin: SentencePiece and LibTorch each carry a protobuf, and linked
// together normally the process crashes. Here both are used, interleaved, in one process.
TEST(Tokenizer, CoexistsWithLibTorchInOneProcess) {
  const auto tok = load_sentencepiece(test::test_tokenizer_model());
  const auto ids = tok->encode("A quiet student carried the broken bridge.");
  auto t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
  const auto doubled = (t * 2).div(2).to(torch::kInt32);
  std::vector<int> back(doubled.data_ptr<int>(), doubled.data_ptr<int>() + doubled.numel());
  EXPECT_EQ(tok->decode(back), "A quiet student carried the broken bridge.");
  EXPECT_EQ(torch::mm(torch::eye(3), torch::ones({3, 2})).sum().item<float>(), 6.0f);
}

TEST(Tokenizer, TrainingRejectsBadInput) {
  SentencePieceTrainParams params;
  params.input_path = "/nonexistent/corpus.txt";
  params.model_prefix = test::temp_dir() + "/x";
  EXPECT_THROW(train_sentencepiece(params), Error);
  params.input_path = test::temp_dir() + "/empty.txt";
  std::ofstream(params.input_path) << "";
  EXPECT_THROW(train_sentencepiece(params), Error);
}

}  // namespace
}  // namespace dglm
