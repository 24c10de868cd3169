// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

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

std::string sample_text() {
  const std::vector<std::string> subjects = {"The old sailor", "A quiet student", "My neighbour", "The committee",
                                             "Every farmer", "The young writer", "Our teacher", "The river"};
  const std::vector<std::string> verbs = {"walked along", "wrote about", "looked at", "talked with",
                                          "dreamed of", "argued over", "carried", "remembered"};
  const std::vector<std::string> objects = {"the green hills", "a long letter", "the morning market",
                                            "the broken bridge", "her first novel", "the winter harvest",
                                            "a small wooden boat", "the city council"};
  const std::vector<std::string> endings = {"before sunrise.", "with great care.", "for many years.",
                                            "without a word.", "in the rain.", "after dinner."};
  std::string text;
  for (std::size_t i = 0; i < 160; ++i)
    text += subjects[i % subjects.size()] + " " + verbs[(i * 3) % verbs.size()] + " " +
            objects[(i * 5) % objects.size()] + " " + endings[(i * 7) % endings.size()] + "\n";
  return text;
}

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
