// SPDX-License-Identifier: GPL-3.0-or-later
// Text <-> token ids. SentencePiece is the implementation; it lives in a plugin of its own because Debian's
// libsentencepiece exports a protobuf copy that clashes with LibTorch's (see core/src/tokenizer/README.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dglm {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int> encode(std::string_view text) const = 0;
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  virtual std::string piece(int id) const = 0;
  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;  // -1 where the model has none
  virtual int eos_id() const = 0;
  virtual int pad_id() const = 0;
  virtual int unk_id() const = 0;
};

// Loads a SentencePiece model file. Throws Error(NotFound/Corrupt) naming the path.
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_path);

struct SentencePieceTrainParams {
  std::string input_path;    // one sentence or paragraph per line
  std::string model_prefix;  // writes MODEL_PREFIX.model and MODEL_PREFIX.vocab
  int vocab_size = 8000;
  std::string model_type = "unigram";  // unigram, bpe, char or word
  double character_coverage = 1.0;
  long max_sentences = 2'000'000;      // input_sentence_size: a random sample of this many lines
  int threads = 2;
};

// Trains a model with pad=0, unk=1, bos=2, eos=3 (the ids every model directory of ours uses).
void train_sentencepiece(const SentencePieceTrainParams& params);

// Where the plugin was loaded from (for `dglm info` and bug reports).
std::string sentencepiece_plugin_path();

}  // namespace dglm
