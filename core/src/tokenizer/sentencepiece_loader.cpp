// SPDX-License-Identifier: GPL-3.0-or-later
// Finds and loads the SentencePiece plugin, and adapts its C interface to dglm::Tokenizer.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "dglm/error.h"
#include "dglm/tokenizer.h"
#include "tokenizer/sentencepiece_api.h"

namespace dglm {
namespace {

constexpr const char* kPluginFile = "libdglm_sentencepiece.so";

struct Plugin {
  std::string path;
  const DglmSentencePieceApi* api = nullptr;
};

std::filesystem::path executable_dir() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return {};
  return std::filesystem::path(std::string(buffer, static_cast<std::size_t>(n))).parent_path();
}

// DGLM_SENTENCEPIECE_PLUGIN overrides; otherwise the build tree (bin/../lib) and the installed location.
std::vector<std::filesystem::path> candidate_paths() {
  std::vector<std::filesystem::path> paths;
  if (const char* env = std::getenv("DGLM_SENTENCEPIECE_PLUGIN"); env && *env) return {env};
  const auto bin = executable_dir();
  paths.push_back(bin / ".." / "lib" / kPluginFile);
  paths.push_back(bin / DGLM_PLUGIN_DIR_FROM_BIN / kPluginFile);
  return paths;
}

const Plugin& plugin() {
  static Plugin loaded;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& candidate : candidate_paths()) {
      if (!std::filesystem::exists(candidate)) {
        tried += "\n  " + candidate.string() + " (absent)";
        continue;
      }
      // DEEPBIND: the plugin's own protobuf copy resolves before LibTorch's. Never unloaded.
      void* handle = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!handle) {
        tried += "\n  " + candidate.string() + ": " + ::dlerror();
        continue;
      }
      auto entry = reinterpret_cast<const DglmSentencePieceApi* (*)()>(::dlsym(handle, "dglm_sentencepiece_api"));
      const DglmSentencePieceApi* api = entry ? entry() : nullptr;
      if (!api || api->version != DGLM_SENTENCEPIECE_API_VERSION) {
        tried += "\n  " + candidate.string() + ": not a compatible plugin";
        continue;
      }
      loaded = {std::filesystem::weakly_canonical(candidate).string(), api};
      return;
    }
    failure = "the SentencePiece plugin was not found; tried:" + tried +
              "\n(set DGLM_SENTENCEPIECE_PLUGIN to its path)";
  });
  if (!loaded.api) throw Error(ErrorKind::NotFound, failure);
  return loaded;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const DglmSentencePieceApi* api, void* handle) : api_(api), handle_(handle) {}
  ~SentencePieceTokenizer() override { api_->destroy(handle_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int> encode(std::string_view text) const override {
    std::vector<int> ids(text.size() + 16);
    long n = api_->encode(handle_, text.data(), text.size(), ids.data(), ids.size());
    if (n > static_cast<long>(ids.size())) {
      ids.resize(static_cast<std::size_t>(n));
      n = api_->encode(handle_, text.data(), text.size(), ids.data(), ids.size());
    }
    if (n < 0) throw Error(ErrorKind::InvalidArgument, "SentencePiece could not encode the text");
    ids.resize(static_cast<std::size_t>(n));
    return ids;
  }

  std::string decode(const std::vector<int>& ids) const override {
    return read_string([&](char* out, std::size_t capacity) {
      return api_->decode(handle_, ids.data(), ids.size(), out, capacity);
    }, "token ids out of the vocabulary");
  }

  std::string piece(int id) const override {
    return read_string([&](char* out, std::size_t capacity) { return api_->piece(handle_, id, out, capacity); },
                       "token id " + std::to_string(id) + " is out of the vocabulary");
  }

  int vocab_size() const override { return api_->vocab_size(handle_); }
  int bos_id() const override { return api_->special_id(handle_, DGLM_SPM_BOS); }
  int eos_id() const override { return api_->special_id(handle_, DGLM_SPM_EOS); }
  int pad_id() const override { return api_->special_id(handle_, DGLM_SPM_PAD); }
  int unk_id() const override { return api_->special_id(handle_, DGLM_SPM_UNK); }

 private:
  template <typename Fill>
  static std::string read_string(Fill fill, const std::string& failure) {
    std::string text(256, '\0');
    long n = fill(text.data(), text.size());
    if (n > static_cast<long>(text.size())) {
      text.resize(static_cast<std::size_t>(n));
      n = fill(text.data(), text.size());
    }
    if (n < 0) throw Error(ErrorKind::InvalidArgument, failure);
    text.resize(static_cast<std::size_t>(n));
    return text;
  }

  const DglmSentencePieceApi* api_;
  void* handle_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_path) {
  if (!std::filesystem::exists(model_path))
    throw Error(ErrorKind::NotFound, "tokenizer model file does not exist", Location{model_path});
  const auto& p = plugin();
  char error[512] = "";
  void* handle = p.api->load(model_path.c_str(), error, sizeof error);
  if (!handle) throw Error(ErrorKind::Corrupt, std::string("not a SentencePiece model: ") + error, Location{model_path});
  return std::make_unique<SentencePieceTokenizer>(p.api, handle);
}

void train_sentencepiece(const SentencePieceTrainParams& params) {
  if (params.vocab_size < 8) throw Error(ErrorKind::InvalidArgument, "vocab_size must be at least 8");
  if (!std::filesystem::exists(params.input_path))
    throw Error(ErrorKind::NotFound, "training text does not exist", Location{params.input_path});
  const std::string options = "input=" + params.input_path + "\nmodel_prefix=" + params.model_prefix +
                              "\nvocab_size=" + std::to_string(params.vocab_size) +
                              "\nmodel_type=" + params.model_type +
                              "\ncharacter_coverage=" + std::to_string(params.character_coverage) +
                              "\ninput_sentence_size=" + std::to_string(params.max_sentences) +
                              "\nshuffle_input_sentence=true\nnum_threads=" + std::to_string(params.threads) +
                              "\npad_id=0\nunk_id=1\nbos_id=2\neos_id=3\nhard_vocab_limit=false\nminloglevel=2\n";
  char error[1024] = "";
  if (plugin().api->train(options.c_str(), error, sizeof error) != 0)
    throw Error(ErrorKind::InvalidArgument, std::string("SentencePiece training failed: ") + error,
                Location{params.input_path});
}

std::string sentencepiece_plugin_path() { return plugin().path; }

}  // namespace dglm
