// SPDX-License-Identifier: GPL-3.0-or-later
// (prefix, continuation) pairs for the joint and diffusion stages, embedded once by the trained encoder.
#include "train/pairs.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "dglm/train.h"
#include "io/weights.h"
#include "nn/encoder.h"
#include "train/corpus.h"

namespace dglm {
namespace {

struct Window {
  int64_t start, length;
};

// Every document cut into consecutive windows of `window` tokens; a shorter last piece counts while it holds a
// minimal prefix and a whole continuation.
std::vector<Window> corpus_windows(const train::TokenFile& file, int64_t window, int64_t shortest) {
  const auto starts = file.documents.contiguous();
  const auto lengths = train::document_lengths(file).contiguous();
  std::vector<Window> out;
  for (int64_t d = 0; d < starts.size(0); ++d) {
    const int64_t begin = starts.data_ptr<int64_t>()[d], end = begin + lengths.data_ptr<int64_t>()[d];
    for (int64_t w = begin; end - w >= shortest; w += window) out.push_back({w, std::min(window, end - w)});
  }
  return out;
}

// Unit embeddings [N, D] of the spans, `batch` at a time.
torch::Tensor embed_spans(nn::SemanticEncoder& encoder, const torch::Tensor& tokens, const torch::Tensor& starts,
                          const torch::Tensor& lengths, int64_t batch, const torch::Device& device,
                          const std::function<void(int64_t done)>& on_batch) {
  std::vector<torch::Tensor> out;
  const int64_t width = lengths.max().item<int64_t>();
  for (int64_t first = 0; first < starts.size(0); first += batch) {
    const auto last = std::min(first + batch, starts.size(0));
    const auto spans = train::gather_spans(tokens, starts.slice(0, first, last), lengths.slice(0, first, last), width);
    out.push_back(encoder->forward(spans.ids.to(device), spans.mask.to(device)).to(torch::kCPU));
    on_batch(last);
  }
  return torch::cat(out);
}

const safetensors::Tensor& required(const safetensors::File& file, const char* name, const std::string& path) {
  const auto* t = file.find(name);
  if (!t)
    throw Error(ErrorKind::Corrupt, "not a pair file (no `" + std::string(name) + "`)", Location{path, 0, 0, name});
  return *t;
}

}  // namespace

PairsReport make_pairs(const std::string& config_path, const std::string& encoder_weights,
                       const std::string& tokens_path, const std::string& output_path, const std::string& stats_path,
                       const PairParams& p, const ProgressFn& progress) {
  if (p.min_prefix_tokens < 1 || p.max_prefix_tokens < p.min_prefix_tokens || p.continuation_tokens < 1 ||
      p.batch_size < 1)
    throw Error(ErrorKind::InvalidArgument, "needs 1 <= min prefix <= max prefix tokens, continuation and batch >= 1");
  const auto config = parse_model_config(read_file_text(config_path), config_path);
  const auto file = train::load_token_file_for(tokens_path, config, 1);
  nn::SemanticEncoder encoder(config.encoder, config.vocab_size, config.latent_dim);
  load_module(*encoder, encoder_weights);
  encoder->eval();
  const auto device = p.device == Device::Cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  encoder->to(device);

  const int64_t max_prefix = p.max_prefix_tokens, min_prefix = p.min_prefix_tokens, C = p.continuation_tokens;
  const auto windows = corpus_windows(file, max_prefix + C, min_prefix + C);
  if (windows.empty())
    throw Error(ErrorKind::InvalidArgument, "no document holds " + std::to_string(min_prefix + C) +
                                                " tokens (a minimal prefix and a continuation)", Location{tokens_path});
  auto rng = at::detail::createCPUGenerator(p.seed);
  // A random sample, not the first windows: the corpus is ordered by source.
  auto chosen = torch::randperm(static_cast<int64_t>(windows.size()), rng, torch::kInt64);
  if (p.max_pairs > 0) chosen = chosen.slice(0, 0, std::min<int64_t>(p.max_pairs, chosen.size(0)));
  const int64_t N = chosen.size(0);
  const auto split = torch::rand({N}, rng, torch::kDouble);
  const auto chosen_at = chosen.accessor<int64_t, 1>();
  const auto split_draw = split.accessor<double, 1>();
  std::vector<int64_t> split_at(static_cast<std::size_t>(N)), prefix_length(static_cast<std::size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    const auto& w = windows[static_cast<std::size_t>(chosen_at[i])];
    const int64_t choices = w.length - C - min_prefix + 1;
    const auto length = min_prefix + train::uniform_index(split_draw[i], choices);
    prefix_length[static_cast<std::size_t>(i)] = length;
    split_at[static_cast<std::size_t>(i)] = w.start + length;
  }
  const auto splits = torch::tensor(split_at), lengths = torch::tensor(prefix_length);

  torch::NoGradGuard no_grad;
  const int64_t max_tokens = config.encoder.max_tokens;
  const auto report = [&](double fraction) {
    if (progress && !progress(static_cast<float>(fraction))) throw Error(ErrorKind::Cancelled, "pair making cancelled");
  };
  // Prefixes keep their last tokens and continuations their first, as Model::embed truncates them.
  const auto embedded_prefix_length = lengths.clamp_max(max_tokens);
  const auto prefix_embedding =
      embed_spans(encoder, file.tokens, splits - embedded_prefix_length, embedded_prefix_length, p.batch_size, device,
                  [&](int64_t done) { report(0.5 * static_cast<double>(done) / static_cast<double>(N)); });
  const auto continuation_lengths = torch::full({N}, std::min(C, max_tokens), torch::kInt64);
  const auto continuation_embedding =
      embed_spans(encoder, file.tokens, splits, continuation_lengths, p.batch_size, device,
                  [&](int64_t done) { report(0.5 + 0.5 * static_cast<double>(done) / static_cast<double>(N)); });

  const auto prefix_ids = train::gather_spans(file.tokens, splits - lengths, lengths, max_prefix).ids;
  const auto continuation_ids = train::gather_spans(file.tokens, splits, torch::full({N}, C, torch::kInt64), C).ids;
  safetensors::File out;
  out.tensors.push_back(from_torch("prefix_ids", prefix_ids.to(torch::kInt32), safetensors::DType::I32));
  out.tensors.push_back(from_torch("prefix_lengths", lengths.to(torch::kInt32), safetensors::DType::I32));
  out.tensors.push_back(from_torch("continuation_ids", continuation_ids.to(torch::kInt32), safetensors::DType::I32));
  out.tensors.push_back(from_torch("prefix_embedding", prefix_embedding));
  out.tensors.push_back(from_torch("continuation_embedding", continuation_embedding));
  out.metadata = {{"bos_id", std::to_string(file.bos_id)},
                  {"vocab_size", std::to_string(file.vocab_size)},
                  {"encoder", encoder_weights},
                  {"tokens", tokens_path}};
  safetensors::write(output_path, out);

  if (!stats_path.empty()) {
    const auto mean = continuation_embedding.mean(0);
    // A dimension the encoder never varies must not divide by zero.
    const auto std = continuation_embedding.std(0, /*unbiased=*/false).clamp_min(1e-6);
    auto to_vector = [](const torch::Tensor& t) {
      const auto c = t.contiguous();
      return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    write_file_atomic(stats_path, nlohmann::json{{"mean", to_vector(mean)}, {"std", to_vector(std)}, {"pairs", N},
                                                 {"encoder", encoder_weights}}.dump() + "\n");
  }
  return {static_cast<long>(windows.size()), static_cast<long>(N)};
}

namespace train {

PairFile load_pair_file(const std::string& path, const ModelConfig& config) {
  const auto file = safetensors::read(path);
  PairFile out;
  out.prefix_ids = to_torch(required(file, "prefix_ids", path)).to(torch::kInt64);
  out.prefix_lengths = to_torch(required(file, "prefix_lengths", path)).to(torch::kInt64);
  out.continuation_ids = to_torch(required(file, "continuation_ids", path)).to(torch::kInt64);
  out.prefix_embedding = to_torch(required(file, "prefix_embedding", path)).to(torch::kFloat);
  out.continuation_embedding = to_torch(required(file, "continuation_embedding", path)).to(torch::kFloat);
  const auto vocab = file.metadata.find("vocab_size"), bos = file.metadata.find("bos_id");
  if (vocab == file.metadata.end() || bos == file.metadata.end())
    throw Error(ErrorKind::Corrupt, "not a pair file (no vocab_size/bos_id metadata)", Location{path});
  if (std::stoi(vocab->second) != config.vocab_size)
    throw Error(ErrorKind::Incompatible, "tokenised with " + vocab->second + " pieces, the model config has " +
                                             std::to_string(config.vocab_size), Location{path, 0, 0, "vocab_size"});
  if (out.continuation_embedding.size(1) != config.latent_dim)
    throw Error(ErrorKind::Incompatible, "embeddings of size " + std::to_string(out.continuation_embedding.size(1)) +
                                             ", the model config has latent_dim " + std::to_string(config.latent_dim),
                Location{path, 0, 0, "continuation_embedding"});
  if (out.size() == 0) throw Error(ErrorKind::InvalidArgument, "the pair file is empty", Location{path});
  out.bos_id = std::stoi(bos->second);
  return out;
}

LatentStats load_latent_stats(const std::string& path, const ModelConfig& config) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_file_text(path));
    LatentStats stats{torch::tensor(json.at("mean").get<std::vector<float>>()),
                      torch::tensor(json.at("std").get<std::vector<float>>())};
    if (stats.mean.numel() != config.latent_dim || stats.std.numel() != config.latent_dim ||
        stats.std.le(0).any().item<bool>())
      throw Error(ErrorKind::Incompatible, "needs " + std::to_string(config.latent_dim) +
                                               " means and as many positive stds (latent_dim)", Location{path});
    return stats;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Corrupt, std::string("not a latent statistics JSON: ") + e.what(), Location{path});
  }
}

}  // namespace train
}  // namespace dglm
