// SPDX-License-Identifier: GPL-3.0-or-later
// The SentencePiece plugin: the only code that links libsentencepiece. See sentencepiece_api.h for why.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/sentencepiece_api.h"

namespace {

void copy_message(const std::string& message, char* out, size_t capacity) {
  if (!out || capacity == 0) return;
  const size_t n = std::min(message.size(), capacity - 1);
  std::memcpy(out, message.data(), n);
  out[n] = '\0';
}

long copy_out(const std::string& text, char* out, size_t capacity) {
  std::memcpy(out, text.data(), std::min(text.size(), capacity));
  return static_cast<long>(text.size());
}

sentencepiece::SentencePieceProcessor& processor(void* handle) {
  return *static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

void* load(const char* path, char* error, size_t error_capacity) {
  auto* p = new (std::nothrow) sentencepiece::SentencePieceProcessor();
  if (!p) return nullptr;
  const auto status = p->Load(path);
  if (!status.ok()) {
    copy_message(status.ToString(), error, error_capacity);
    delete p;
    return nullptr;
  }
  return p;
}

void destroy(void* handle) { delete &processor(handle); }

long encode(void* handle, const char* text, size_t length, int* ids, size_t capacity) {
  std::vector<int> out;
  if (!processor(handle).Encode(std::string(text, length), &out).ok()) return -1;
  std::copy_n(out.begin(), std::min(out.size(), capacity), ids);
  return static_cast<long>(out.size());
}

long decode(void* handle, const int* ids, size_t count, char* text, size_t capacity) {
  const int size = processor(handle).GetPieceSize();
  for (size_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= size) return -1;
  std::string out;
  if (!processor(handle).Decode(std::vector<int>(ids, ids + count), &out).ok()) return -1;
  return copy_out(out, text, capacity);
}

long piece(void* handle, int id, char* text, size_t capacity) {
  if (id < 0 || id >= processor(handle).GetPieceSize()) return -1;
  return copy_out(processor(handle).IdToPiece(id), text, capacity);
}

int vocab_size(void* handle) { return processor(handle).GetPieceSize(); }

int special_id(void* handle, DglmSpmSpecial which) {
  const auto& p = processor(handle);
  switch (which) {
    case DGLM_SPM_PAD: return p.pad_id();
    case DGLM_SPM_UNK: return p.unk_id();
    case DGLM_SPM_BOS: return p.bos_id();
    case DGLM_SPM_EOS: return p.eos_id();
  }
  return -1;
}

int train(const char* options, char* error, size_t error_capacity) {
  std::unordered_map<std::string, std::string> kwargs;
  std::istringstream lines(options);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) kwargs[line.substr(0, eq)] = line.substr(eq + 1);
  }
  const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs);
  if (!status.ok()) {
    copy_message(status.ToString(), error, error_capacity);
    return 1;
  }
  return 0;
}

constexpr DglmSentencePieceApi kApi = {DGLM_SENTENCEPIECE_API_VERSION, load, destroy, encode, decode, piece,
                                       vocab_size, special_id, train};

}  // namespace

extern "C" __attribute__((visibility("default"))) const DglmSentencePieceApi* dglm_sentencepiece_api(void) {
  return &kApi;
}
