// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/corpus.h"

#include <fstream>

#include "dglm/error.h"
#include "dglm/safetensors.h"
#include "dglm/tokenizer.h"
#include "dglm/train.h"
#include "io/weights.h"

namespace dglm {
namespace {

int metadata_int(const safetensors::File& file, const char* key, const std::string& path) {
  const auto found = file.metadata.find(key);
  if (found == file.metadata.end())
    throw Error(ErrorKind::Corrupt, "not a token file (no metadata)", Location{path, 0, 0, key});
  return std::stoi(found->second);
}

}  // namespace

TokenizedCorpus tokenize_corpus(const std::string& tokenizer_model, const std::string& text_path,
                                const std::string& output_path) {
  const auto tokenizer = load_sentencepiece(tokenizer_model);
  std::ifstream in(text_path);
  if (!in) throw Error(ErrorKind::NotFound, "cannot open the corpus", Location{text_path});
  std::vector<std::int32_t> tokens;
  std::vector<std::int64_t> documents;
  bool in_document = false;
  auto end_document = [&] {
    if (in_document) tokens.push_back(tokenizer->eos_id());
    in_document = false;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      end_document();
      continue;
    }
    if (!in_document) documents.push_back(static_cast<std::int64_t>(tokens.size()));
    in_document = true;
    for (const int id : tokenizer->encode(line)) tokens.push_back(id);
  }
  end_document();
  if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "the corpus has no text", Location{text_path});

  safetensors::File file;
  const auto n = static_cast<std::int64_t>(tokens.size());
  file.tensors.push_back(from_torch("tokens", torch::from_blob(tokens.data(), {n}, torch::kInt32),
                                    safetensors::DType::I32));
  file.tensors.push_back(from_torch("documents", torch::tensor(documents, torch::kInt64), safetensors::DType::I64));
  file.metadata = {{"bos_id", std::to_string(tokenizer->bos_id())},
                   {"eos_id", std::to_string(tokenizer->eos_id())},
                   {"vocab_size", std::to_string(tokenizer->vocab_size())}};
  safetensors::write(output_path, file);
  return {documents.size(), tokens.size()};
}

namespace train {

TokenFile load_token_file(const std::string& path) {
  const auto file = safetensors::read(path);
  TokenFile out;
  out.bos_id = metadata_int(file, "bos_id", path);
  out.eos_id = metadata_int(file, "eos_id", path);
  out.vocab_size = metadata_int(file, "vocab_size", path);
  const auto* tokens = file.find("tokens");
  const auto* documents = file.find("documents");
  if (!tokens || tokens->dtype != safetensors::DType::I32 || tokens->shape.size() != 1 || !documents)
    throw Error(ErrorKind::Corrupt, "not a token file (needs i32 `tokens` [N] and `documents`)", Location{path});
  out.tokens = to_torch(*tokens);
  out.documents = to_torch(*documents);
  if (out.tokens.numel() > 0 &&
      (out.tokens.min().item<int>() < 0 || out.tokens.max().item<int>() >= out.vocab_size))
    throw Error(ErrorKind::Corrupt, "token ids outside the vocabulary of " + std::to_string(out.vocab_size),
                Location{path, 0, 0, "tokens"});
  return out;
}

TokenFile load_token_file_for(const std::string& path, const ModelConfig& config, int64_t min_tokens) {
  auto data = load_token_file(path);
  if (data.vocab_size != config.vocab_size)
    throw Error(ErrorKind::Incompatible, "tokenised with " + std::to_string(data.vocab_size) +
                                             " pieces, the model config has " + std::to_string(config.vocab_size),
                Location{path, 0, 0, "vocab_size"});
  if (data.tokens.numel() < min_tokens)
    throw Error(ErrorKind::InvalidArgument,
                "fewer tokens than one training window (" + std::to_string(min_tokens) + ")", Location{path});
  return data;
}

SpanBatch gather_spans(const torch::Tensor& tokens, const torch::Tensor& starts, const torch::Tensor& lengths,
                       int64_t width) {
  const auto offsets = torch::arange(width).unsqueeze(0);
  const auto mask = offsets < lengths.unsqueeze(1);
  const auto positions = (starts.unsqueeze(1) + offsets).clamp_max(tokens.numel() - 1);
  const auto ids = tokens.index_select(0, positions.reshape(-1)).view(positions.sizes()).to(torch::kInt64);
  return {ids.masked_fill(~mask, 0), mask};
}

torch::Tensor document_lengths(const TokenFile& file) {
  const auto ends = torch::cat({file.documents.slice(0, 1), torch::full({1}, file.tokens.numel(), torch::kInt64)});
  return ends - file.documents - 1;
}

}  // namespace train
}  // namespace dglm
