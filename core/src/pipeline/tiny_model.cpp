// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/tiny_model.h"

#include <filesystem>
#include <fstream>

#include <torch/types.h>

#include "dglm/fileio.h"
#include "io/weights.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace fs = std::filesystem;

std::string tiny_corpus() {
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

namespace {

ModelConfig tiny_config(int vocab_size) {
  ModelConfig c;
  c.name = "tiny-random";
  c.vocab_size = vocab_size;
  c.latent_dim = 16;
  c.encoder = {/*d_model=*/32, /*n_layers=*/2, /*n_heads=*/2, /*d_ff=*/64, /*max_tokens=*/48,
               /*relative_buckets=*/16, /*relative_max_distance=*/64};
  c.diffusion = {/*d_model=*/32, /*n_layers=*/2, /*n_heads=*/2, /*splice_tokens=*/4, /*splice_dim=*/8};
  c.prompt = {/*d_model=*/32, /*n_layers=*/2, /*n_heads=*/2, /*prompt_tokens=*/4};
  c.decoder = {/*d_model=*/32, /*n_layers=*/2, /*n_heads=*/2, /*context=*/96};
  return c;
}

LogisticProbe random_probe(const std::string& name, const std::string& description,
                           std::vector<std::string> classes, int64_t dim) {
  LogisticProbe probe;
  probe.name = name;
  probe.description = description + " (random weights: the tiny test model)";
  probe.weight = torch::randn({static_cast<int64_t>(classes.size()), dim}) * 3;
  probe.bias = torch::zeros({static_cast<int64_t>(classes.size())});
  probe.classes = std::move(classes);
  return probe;
}

}  // namespace

void make_tiny_model(const std::string& directory, std::uint64_t seed) {
  const fs::path dir(directory);
  fs::create_directories(dir / ModelFiles::kProbeDir);
  torch::manual_seed(seed);

  const auto corpus_path = (dir / "tiny-corpus.txt").string();
  const auto corpus = tiny_corpus();
  write_file_atomic(corpus_path, corpus);
  SentencePieceTrainParams spm;
  spm.input_path = corpus_path;
  spm.model_prefix = (dir / "tokenizer").string();
  spm.vocab_size = 150;
  spm.threads = 1;
  train_sentencepiece(spm);
  fs::remove(corpus_path);
  fs::remove(dir / "tokenizer.vocab");

  Model::Impl model;
  model.tokenizer = load_sentencepiece((dir / "tokenizer.model").string());
  auto config = tiny_config(model.tokenizer->vocab_size());
  model.info.config = config;
  model.build_networks(config);
  model.encoder->eval();

  // Standardisation statistics of the (random) encoder over the corpus lines, as training would compute them.
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = corpus.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(corpus.substr(start, end - start));
  model.latent_mean = torch::zeros({config.latent_dim});
  model.latent_std = torch::ones({config.latent_dim});
  torch::Tensor embeddings;
  {
    torch::NoGradGuard no_grad;
    embeddings = model.embed(lines, false);
  }
  const auto mean = embeddings.mean(0).contiguous(), std = embeddings.std(0).clamp_min(1e-4).contiguous();
  config.latent_mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + config.latent_dim);
  config.latent_std.assign(std.data_ptr<float>(), std.data_ptr<float>() + config.latent_dim);

  const std::map<std::string, std::string> metadata = {{"model", config.name}};
  save_module(*model.encoder, (dir / ModelFiles::kEncoder).string(), false, metadata);
  save_module(*model.diffusion, (dir / ModelFiles::kDiffusion).string(), false, metadata);
  save_module(*model.prompt, (dir / ModelFiles::kPrompt).string(), false, metadata);
  save_module(*model.decoder, (dir / ModelFiles::kDecoder).string(), false, metadata);
  const auto probes = dir / ModelFiles::kProbeDir;
  save_probe(random_probe("sentiment", "Sentiment", {"negative", "positive"}, config.latent_dim),
             (probes / "sentiment").string());
  save_probe(random_probe("offensive", "Offensive language", {"clean", "offensive"}, config.latent_dim),
             (probes / "offensive").string());
  save_probe(random_probe("topic", "Topic", {"politics", "religion", "science", "fiction"}, config.latent_dim),
             (probes / "topic").string());
  write_file_atomic((dir / ModelFiles::kConfig).string(), model_config_to_json(config));
}

}  // namespace dglm
