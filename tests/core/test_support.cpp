// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dglm/tiny_model.h"
#include "dglm/tokenizer.h"

namespace dglm::test {
namespace {

struct TempRoot {
  std::filesystem::path path;
  TempRoot() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dglm-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

std::string temp_dir() {
  static TempRoot root;
  static int counter = 0;
  auto dir = root.path / std::to_string(counter++);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string sample_text() { return tiny_corpus(); }

std::string test_tokenizer_model() {
  static const std::string model = [] {
    const auto dir = temp_dir();
    const auto corpus = dir + "/corpus.txt";
    std::ofstream(corpus) << sample_text();
    SentencePieceTrainParams params;
    params.input_path = corpus;
    params.model_prefix = dir + "/tok";
    params.vocab_size = 120;
    params.threads = 1;
    train_sentencepiece(params);
    return dir + "/tok.model";
  }();
  return model;
}

}  // namespace dglm::test
