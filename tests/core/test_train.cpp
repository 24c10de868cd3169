// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/csv.h"
#include "dglm/fileio.h"
#include "dglm/generator.h"
#include "dglm/safetensors.h"
#include "dglm/tiny_model.h"
#include "dglm/tokenizer.h"
#include "dglm/train.h"
#include "test_support.h"
#include "io/weights.h"
#include "nn/encoder.h"
#include "pipeline/model_impl.h"
#include "train/corpus.h"
#include "train/pairs.h"

namespace dglm {
namespace {

namespace fs = std::filesystem;

// The tiny model's config and tokenizer, and its corpus tokenised as documents of five lines: the first 80% of
// documents for training, the rest for validation.
struct Fixture {
  std::string dir, config, train_tokens, valid_tokens;
  TokenizedCorpus train_report;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    f.dir = test::temp_dir();
    make_tiny_model(f.dir, 0);
    f.config = (fs::path(f.dir) / "config.json").string();
    std::istringstream lines(tiny_corpus());
    std::vector<std::string> documents(1);
    std::string line;
    for (int i = 0; std::getline(lines, line); ++i) {
      if (i > 0 && i % 5 == 0) documents.emplace_back();
      documents.back() += line + "\n";
    }
    const auto split = documents.size() * 4 / 5;
    std::string train, valid;
    for (std::size_t d = 0; d < documents.size(); ++d) (d < split ? train : valid) += documents[d] + "\n";
    write_file_atomic(f.dir + "/train.txt", train);
    write_file_atomic(f.dir + "/valid.txt", valid);
    const auto tokenizer = (fs::path(f.dir) / "tokenizer.model").string();
    f.train_tokens = f.dir + "/train.tokens";
    f.valid_tokens = f.dir + "/valid.tokens";
    f.train_report = tokenize_corpus(tokenizer, f.dir + "/train.txt", f.train_tokens);
    tokenize_corpus(tokenizer, f.dir + "/valid.txt", f.valid_tokens);
    return f;
  }();
  return f;
}

TrainParams tiny_params(const std::string& output_dir, long steps) {
  TrainParams p;
  p.output_dir = output_dir;
  p.max_steps = steps;
  p.batch_size = 4;
  p.lr = 3e-3;
  p.warmup_steps = 2;
  p.checkpoint_every_steps = 4;
  p.checkpoint_every_seconds = 1e9;
  p.log_every_steps = 1;
  p.eval_batches = 2;
  p.seed = 11;
  return p;
}

// One step at learning rate 0: it leaves the starting weights as they were, so its output shows what they were.
TrainParams frozen_step_params() {
  auto p = tiny_params(test::temp_dir(), 1);
  p.lr = p.min_lr = p.weight_decay = 0;
  return p;
}

std::vector<std::vector<std::string>> log_rows(const std::string& dir) {
  std::istringstream text(read_file_text(dir + "/log.csv"));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(text, line)) {
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// A kill in the middle of a run: nothing is saved at that moment, the last periodic checkpoint is at step 4.
bool kill_at_step_6(const TrainProgress& p) {
  if (p.step == 6) throw std::runtime_error("killed");
  return true;
}

// The first tensor in which two weight files differ, bitwise ("" when they hold the same tensors).
std::string first_difference(const std::string& path_a, const std::string& path_b) {
  const auto a = safetensors::read(path_a), b = safetensors::read(path_b);
  if (a.tensors.size() != b.tensors.size())
    return path_b + ": " + std::to_string(b.tensors.size()) + " tensors, not " + std::to_string(a.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i)
    if (a.tensors[i].name != b.tensors[i].name || !(a.tensors[i].bytes == b.tensors[i].bytes))
      return path_b + ": " + b.tensors[i].name + " differs from " + a.tensors[i].name + " in " + path_a;
  return "";
}

// Same weight files, bitwise, and the same metrics.
void expect_same_weights(const TrainResult& reference, const TrainResult& resumed) {
  ASSERT_EQ(reference.weights_paths.size(), resumed.weights_paths.size());
  for (std::size_t f = 0; f < reference.weights_paths.size(); ++f)
    EXPECT_EQ(first_difference(reference.weights_paths[f], resumed.weights_paths[f]), "");
  EXPECT_EQ(reference.metrics, resumed.metrics);
}

TEST(TokenizeCorpus, EndsEveryDocumentWithEos) {
  const auto& f = fixture();
  const auto tokens = train::load_token_file(f.train_tokens);
  EXPECT_EQ(static_cast<std::size_t>(tokens.documents.numel()), f.train_report.documents);
  EXPECT_GT(f.train_report.documents, 3u);
  EXPECT_EQ(static_cast<std::size_t>(tokens.tokens.numel()), f.train_report.tokens);
  EXPECT_EQ(tokens.tokens.eq(tokens.eos_id).sum().item<int64_t>(), static_cast<int64_t>(f.train_report.documents));
  EXPECT_EQ(tokens.tokens[-1].item<int>(), tokens.eos_id);
  EXPECT_EQ(tokens.documents[0].item<int64_t>(), 0);
}

TEST(TrainDecoder, LossFallsAndTheWeightsAndLogAreWritten) {
  const auto& f = fixture();
  const auto out = test::temp_dir();
  std::vector<double> losses;
  const auto result = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(out, 40),
                                    [&](const TrainProgress& p) {
                                      losses.push_back(p.loss);
                                      EXPECT_STREQ(p.stage, "decoder");
                                      EXPECT_GT(p.items_per_second, 0);
                                      return true;
                                    });
  ASSERT_TRUE(result.finished);
  EXPECT_EQ(result.steps_done, 40);
  ASSERT_EQ(losses.size(), 40u);
  EXPECT_LT(losses.back(), losses.front() - 1.0) << "from " << losses.front() << " to " << losses.back();
  ASSERT_TRUE(result.metrics.count("val_perplexity"));
  EXPECT_GT(result.metrics.at("val_perplexity"), 1);
  EXPECT_LT(result.metrics.at("val_perplexity"), 150);  // below a uniform guess over the tiny vocabulary
  ASSERT_EQ(result.weights_paths.size(), 1u);
  EXPECT_NE(safetensors::read(result.weights_paths[0]).find("wte.weight"), nullptr);
  const auto rows = log_rows(out);
  ASSERT_EQ(rows.size(), 41u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"step", "loss", "lr", "items_per_second", "elapsed_seconds"}));
  EXPECT_EQ(rows[40][0], "40");
}

// The resume test: a run killed mid-way (an exception from the callback, so nothing is saved at that moment)
// resumes from its last periodic checkpoint and ends with bitwise the same weights as an uninterrupted run.
TEST(TrainDecoder, ResumesAfterAKillToTheSameWeightsBitwise) {
  const auto& f = fixture();
  const auto whole = test::temp_dir(), killed = test::temp_dir();
  const auto reference = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(whole, 10));
  ASSERT_TRUE(reference.finished);

  EXPECT_THROW(train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(killed, 10), kill_at_step_6),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(killed + "/decoder.safetensors"));
  const auto resumed = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(killed, 10));
  ASSERT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.resumed_from, 4);  // the checkpoint before the kill

  expect_same_weights(reference, resumed);
  // The log keeps one row per step: the rows the kill left after the checkpoint were replaced, not repeated.
  const auto ra = log_rows(whole), rb = log_rows(killed);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 1; i < ra.size(); ++i) EXPECT_EQ(ra[i][1], rb[i][1]) << "loss of step " << ra[i][0];
}

TEST(TrainDecoder, StoppingByCallbackOrBudgetLeavesAResumableCheckpoint) {
  const auto& f = fixture();
  const auto out = test::temp_dir();
  const auto stopped = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(out, 10),
                                     [](const TrainProgress& p) { return p.step < 5; });
  EXPECT_FALSE(stopped.finished);
  EXPECT_EQ(stopped.steps_done, 5);
  EXPECT_TRUE(stopped.metrics.empty());

  auto budget = tiny_params(out, 10);
  budget.budget_seconds = 1e-9;  // one step, then out of time
  const auto one_more = train_decoder(f.config, f.train_tokens, f.valid_tokens, budget);
  EXPECT_EQ(one_more.resumed_from, 5);
  EXPECT_EQ(one_more.steps_done, 6);
  EXPECT_FALSE(one_more.finished);

  const auto rest = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(out, 10));
  EXPECT_EQ(rest.resumed_from, 6);
  EXPECT_TRUE(rest.finished);
}

TEST(TrainDecoder, RefusesACheckpointWithAnotherSeed) {
  const auto& f = fixture();
  const auto out = test::temp_dir();
  train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(out, 4));
  auto other = tiny_params(out, 8);
  other.seed = 12;
  try {
    train_decoder(f.config, f.train_tokens, f.valid_tokens, other);
    FAIL() << "resumed with another seed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("seed 11"), std::string::npos) << e.what();
  }
  other.resume = false;  // starting afresh is allowed
  EXPECT_EQ(train_decoder(f.config, f.train_tokens, f.valid_tokens, other).resumed_from, 0);
}

TEST(TrainDecoder, RejectsTokensFromAnotherVocabulary) {
  const auto& f = fixture();
  auto file = safetensors::read(f.train_tokens);
  file.metadata["vocab_size"] = "99999";
  const auto other = test::temp_dir() + "/other.tokens";
  safetensors::write(other, file);
  try {
    train_decoder(f.config, other, f.valid_tokens, tiny_params(test::temp_dir(), 2));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Incompatible);
    EXPECT_NE(std::string(e.what()).find("other.tokens"), std::string::npos) << e.what();
  }
}

// The stages after the decoder, run once on the tiny fixture and shared by the tests below: encoder -> pairs ->
// joint (from the tiny model's decoder) -> diffusion.
struct Stages {
  std::string train_pairs, valid_pairs, stats;
  PairsReport pairs;
  TrainResult encoder, joint, diffusion;
  std::vector<double> encoder_losses, joint_losses, diffusion_losses;
};

PairParams tiny_pair_params() {
  PairParams p;
  p.max_prefix_tokens = 16;
  p.min_prefix_tokens = 4;
  p.continuation_tokens = 8;
  p.batch_size = 8;
  p.seed = 3;
  return p;
}

TrainProgressFn record(std::vector<double>& losses) {
  return [&losses](const TrainProgress& p) {
    losses.push_back(p.loss);
    return true;
  };
}

// Mean of the first and of the last `n` losses.
std::pair<double, double> ends(const std::vector<double>& losses, std::size_t n) {
  const auto mean = [](auto begin, auto end) {
    return std::accumulate(begin, end, 0.0) / static_cast<double>(end - begin);
  };
  return {mean(losses.begin(), losses.begin() + static_cast<std::ptrdiff_t>(n)),
          mean(losses.end() - static_cast<std::ptrdiff_t>(n), losses.end())};
}

const Stages& stages() {
  static const Stages s = [] {
    const auto& f = fixture();
    Stages s;
    const auto dir = test::temp_dir();
    auto params = tiny_params(dir + "/encoder", 40);
    params.batch_size = 8;
    s.encoder = train_encoder(f.config, f.train_tokens, f.valid_tokens, params, {}, record(s.encoder_losses));
    s.train_pairs = dir + "/train.pairs";
    s.valid_pairs = dir + "/valid.pairs";
    s.stats = dir + "/stats.json";
    s.pairs = make_pairs(f.config, s.encoder.weights_paths.at(0), f.train_tokens, s.train_pairs, s.stats,
                         tiny_pair_params());
    make_pairs(f.config, s.encoder.weights_paths.at(0), f.valid_tokens, s.valid_pairs, "", tiny_pair_params());
    s.joint = train_joint(f.config, f.dir + "/decoder.safetensors", s.train_pairs, s.valid_pairs, s.stats,
                          tiny_params(dir + "/joint", 60), {}, record(s.joint_losses));
    s.diffusion = train_diffusion(f.config, s.train_pairs, s.valid_pairs, s.stats, tiny_params(dir + "/diffusion", 40),
                                  {0.9, 0.1}, record(s.diffusion_losses));
    return s;
  }();
  return s;
}

// A run killed at step 6 and resumed (from its checkpoint at step 4) ends as an uninterrupted one, bitwise.
void expect_bitwise_resume(const std::function<TrainResult(const std::string&, const TrainProgressFn&)>& run) {
  const auto whole = test::temp_dir(), killed = test::temp_dir();
  const auto reference = run(whole, {});
  EXPECT_THROW(run(killed, kill_at_step_6), std::runtime_error);
  const auto resumed = run(killed, {});
  EXPECT_EQ(resumed.resumed_from, 4);
  expect_same_weights(reference, resumed);
}

TEST(TrainEncoder, ContrastiveLossFallsAndHeldOutRetrievalIsReported) {
  const auto& s = stages();
  ASSERT_TRUE(s.encoder.finished);
  const auto [first, last] = ends(s.encoder_losses, 5);
  EXPECT_LT(last, first - 0.2) << "from " << first << " to " << last;
  EXPECT_EQ(s.encoder.metrics.at("retrieval_candidates"), 8);
  EXPECT_GE(s.encoder.metrics.at("val_retrieval_top1"), 0);
  EXPECT_LE(s.encoder.metrics.at("val_retrieval_top1"), 1);
  EXPECT_GT(s.encoder.metrics.at("temperature"), 0);
  EXPECT_NE(s.encoder.metrics.at("temperature"), 0.05) << "the temperature was not learned";
  EXPECT_NE(safetensors::read(s.encoder.weights_paths.at(0)).find("projection.weight"), nullptr);
}

// A frozen step from `init` ("" for fresh weights).
TrainResult frozen_encoder(const std::string& config, const std::string& init) {
  const auto& f = fixture();
  auto params = frozen_step_params();
  params.batch_size = 8;
  EncoderTrainOptions options;
  options.init_weights = init;
  return train_encoder(config, f.train_tokens, f.valid_tokens, params, options);
}

TEST(TrainEncoder, FineTuningStartsFromTheGivenWeights) {
  const auto& f = fixture();
  const auto& s = stages();
  const auto trained = safetensors::read(s.encoder.weights_paths.at(0));
  const auto tuned = safetensors::read(frozen_encoder(f.config, s.encoder.weights_paths.at(0)).weights_paths.at(0));
  const auto fresh = safetensors::read(frozen_encoder(f.config, "").weights_paths.at(0));
  const auto* projection = trained.find("projection.weight");
  ASSERT_NE(projection, nullptr);
  EXPECT_TRUE(tuned.find("projection.weight")->bytes == projection->bytes);
  EXPECT_FALSE(fresh.find("projection.weight")->bytes == projection->bytes);
  try {
    frozen_encoder(f.config, f.dir + "/no-such-encoder.safetensors");
    FAIL() << "a missing --init file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-encoder.safetensors"), std::string::npos) << e.what();
  }
}

// An encoder trained without the bag-of-pieces branch is fine-tuned with it: the branch starts at zero, the rest
// as trained; a file that has the branch does not load into a config without it.
TEST(TrainEncoder, FineTuningAddsTheBagOfPiecesBranchAtZero) {
  const auto& f = fixture();
  const auto& s = stages();
  auto config = parse_model_config(read_file_text(f.config), f.config);
  config.encoder.bag_of_pieces_scale = 30;
  const auto branched_config = test::temp_dir() + "/config.json";
  write_file_atomic(branched_config, model_config_to_json(config));

  const auto tuned_path = frozen_encoder(branched_config, s.encoder.weights_paths.at(0)).weights_paths.at(0);
  const auto tuned = safetensors::read(tuned_path);
  const auto* branch = tuned.find("bag_of_pieces.weight");
  ASSERT_NE(branch, nullptr);
  EXPECT_EQ(to_torch(*branch).abs().max().item<double>(), 0.0);
  EXPECT_TRUE(tuned.find("projection.weight")->bytes ==
              safetensors::read(s.encoder.weights_paths.at(0)).find("projection.weight")->bytes);
  EXPECT_THROW(frozen_encoder(f.config, tuned_path), Error);
}

// Share of texts nearer (cosine) to their own class's mean embedding than to the other's, under trained encoder
// weights: whether the embedding holds the two classes apart.
double nearest_centroid_accuracy(const std::string& encoder_weights, const LabelledTexts& rows) {
  const auto& f = fixture();
  const auto config = parse_model_config(read_file_text(f.config), f.config);
  nn::SemanticEncoder encoder(config.encoder, config.vocab_size, config.latent_dim);
  load_module(*encoder, encoder_weights);
  encoder->eval();
  const auto tokenizer = load_sentencepiece(f.dir + "/tokenizer.model");
  std::vector<int32_t> tokens;
  std::vector<int64_t> starts, lengths;
  for (const auto& text : rows.texts) {
    const auto pieces = tokenizer->encode(text);
    starts.push_back(static_cast<int64_t>(tokens.size()));
    lengths.push_back(std::min<int64_t>(static_cast<int64_t>(pieces.size()), config.encoder.max_tokens));
    tokens.insert(tokens.end(), pieces.begin(), pieces.end());
  }
  const auto spans = train::gather_spans(torch::tensor(tokens), torch::tensor(starts), torch::tensor(lengths),
                                         config.encoder.max_tokens);
  torch::NoGradGuard no_grad;
  const auto embeddings = encoder->forward(spans.ids, spans.mask);
  std::vector<int64_t> labels;
  for (const auto& label : rows.labels) labels.push_back(label == rows.labels.front() ? 0 : 1);
  const auto y = torch::tensor(labels);
  const auto centroids = torch::stack({embeddings.index({y == 0}).mean(0), embeddings.index({y == 1}).mean(0)});
  const auto nearest = torch::matmul(embeddings, centroids.t()).argmax(1);
  return nearest.eq(y).to(torch::kDouble).mean().item<double>();
}

// The supervised contrastive term moves texts of one label together: the same run with and without it.
TEST(TrainEncoder, LabelledTextsPullTheirClassesApart) {
  const auto& f = fixture();
  const auto labelled = std::string(DGLM_TEST_DATA_DIR) + "/csv/sentiment.csv";
  auto run = [&](bool supervised) {
    auto params = tiny_params(test::temp_dir(), 40);
    params.batch_size = 8;
    EncoderTrainOptions options;
    if (supervised) {
      options.labelled_csvs = {labelled};
      options.tokenizer = f.dir + "/tokenizer.model";
      options.labelled_batch = 16;
      options.labelled_weight = 10;  // 40 steps of a tiny encoder: a loud signal, so that the effect is clear
    }
    return train_encoder(f.config, f.train_tokens, f.valid_tokens, params, options).weights_paths.at(0);
  };
  const auto rows = read_labelled_csv(labelled, "text", "label").data;
  const double plain = nearest_centroid_accuracy(run(false), rows);
  const double supervised = nearest_centroid_accuracy(run(true), rows);
  EXPECT_GT(supervised, plain + 0.2) << "nearest class mean: " << supervised << " with the labels, " << plain
                                     << " without";
}

TEST(TrainEncoder, LabelledTextsNeedTheirTokenizerAndTwoClasses) {
  const auto& f = fixture();
  auto params = tiny_params(test::temp_dir(), 1);
  EncoderTrainOptions options;
  options.labelled_csvs = {std::string(DGLM_TEST_DATA_DIR) + "/csv/sentiment.csv"};
  expect_invalid_argument([&] { train_encoder(f.config, f.train_tokens, f.valid_tokens, params, options); });
  options.tokenizer = f.dir + "/tokenizer.model";
  options.labelled_csvs = {std::string(DGLM_TEST_DATA_DIR) + "/csv/one_class.csv"};
  try {
    train_encoder(f.config, f.train_tokens, f.valid_tokens, params, options);
    FAIL() << "one class was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one_class.csv"), std::string::npos) << e.what();
  }
}

TEST(MakePairs, CutsDocumentsIntoEmbeddedPrefixContinuationPairs) {
  const auto& f = fixture();
  const auto& s = stages();
  const auto config = parse_model_config(read_file_text(f.config), f.config);
  const auto pairs = train::load_pair_file(s.train_pairs, config);
  EXPECT_EQ(pairs.size(), s.pairs.pairs);
  EXPECT_EQ(s.pairs.pairs, s.pairs.windows);
  EXPECT_GT(s.pairs.pairs, 20);
  EXPECT_EQ(pairs.prefix_ids.size(1), 16);
  EXPECT_EQ(pairs.continuation_ids.size(1), 8);
  EXPECT_GE(pairs.prefix_lengths.min().item<int64_t>(), 4);
  EXPECT_LE(pairs.prefix_lengths.max().item<int64_t>(), 16);
  EXPECT_TRUE(torch::allclose(pairs.continuation_embedding.norm(2, 1), torch::ones({pairs.size()}), 1e-4, 1e-4));

  // The stored embeddings are the encoder's of the stored tokens, and each prefix runs on into its continuation.
  const auto tokens = train::load_token_file(f.train_tokens).tokens.to(torch::kInt64);
  nn::SemanticEncoder encoder(config.encoder, config.vocab_size, config.latent_dim);
  load_module(*encoder, s.encoder.weights_paths.at(0));
  encoder->eval();
  torch::NoGradGuard no_grad;
  for (int64_t i : {int64_t{0}, pairs.size() - 1}) {
    const auto length = pairs.prefix_lengths[i].item<int64_t>();
    const auto prefix = pairs.prefix_ids[i].slice(0, 0, length).unsqueeze(0);
    const auto continuation = pairs.continuation_ids[i].unsqueeze(0);
    EXPECT_TRUE(torch::allclose(encoder->forward(prefix, torch::ones_like(prefix, torch::kBool))[0],
                                pairs.prefix_embedding[i], 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(encoder->forward(continuation, torch::ones_like(continuation, torch::kBool))[0],
                                pairs.continuation_embedding[i], 1e-4, 1e-5));
    const auto joined = torch::cat({prefix[0], continuation[0]});
    const auto found = tokens.unfold(0, joined.size(0), 1).eq(joined).all(1).any().item<bool>();
    EXPECT_TRUE(found) << "pair " << i << " is not a contiguous piece of the corpus";
  }

  const auto stats = nlohmann::json::parse(read_file_text(s.stats));
  EXPECT_EQ(stats.at("mean").size(), 16u);
  EXPECT_EQ(stats.at("pairs").get<long>(), s.pairs.pairs);
  const auto std_expected = pairs.continuation_embedding.std(0, false);
  EXPECT_NEAR(stats.at("std")[3].get<double>(), std_expected[3].item<double>(), 1e-5);

  auto capped = tiny_pair_params();
  capped.max_pairs = 5;
  const auto out = test::temp_dir() + "/capped.pairs";
  const auto report = make_pairs(f.config, s.encoder.weights_paths.at(0), f.train_tokens, out, "", capped);
  EXPECT_EQ(report.pairs, 5);
  EXPECT_EQ(report.windows, s.pairs.windows);
  EXPECT_EQ(train::load_pair_file(out, config).size(), 5);
}

TEST(TrainJoint, ContinuationLossFallsAndBothPartsAreWritten) {
  const auto& s = stages();
  ASSERT_TRUE(s.joint.finished);
  const auto [first, last] = ends(s.joint_losses, 5);
  EXPECT_LT(last, first - 0.3) << "from " << first << " to " << last;
  ASSERT_EQ(s.joint.weights_paths.size(), 2u);
  EXPECT_NE(safetensors::read(s.joint.weights_paths[0]).find("latent_in.weight"), nullptr);
  EXPECT_NE(safetensors::read(s.joint.weights_paths[1]).find("wte.weight"), nullptr);
  EXPECT_GT(s.joint.metrics.at("val_perplexity"), 1);
  EXPECT_GT(s.joint.metrics.at("val_perplexity_unguided"), 1);
}

// A step at learning rate 0 from the trained parts leaves them as they were: the warm start loads the prompt
// generator (a fresh one differs).
TEST(TrainJoint, WarmStartsThePromptGeneratorFromTheGivenWeights) {
  const auto& f = fixture();
  const auto& s = stages();
  auto params = frozen_step_params();
  const auto& trained = s.joint.weights_paths;
  const auto warm = train_joint(f.config, trained.at(1), s.train_pairs, s.valid_pairs, s.stats, params, {trained.at(0)});
  EXPECT_EQ(first_difference(warm.weights_paths.at(0), trained.at(0)), "");
  EXPECT_EQ(first_difference(warm.weights_paths.at(1), trained.at(1)), "");
  params.output_dir = test::temp_dir();
  const auto fresh = train_joint(f.config, trained.at(1), s.train_pairs, s.valid_pairs, s.stats, params);
  EXPECT_NE(first_difference(fresh.weights_paths.at(0), trained.at(0)), "");
}

// A 60-step joint run like the stages' plain one but with `options`: how much more its first loss is (same seed,
// same weights, so only an added term makes a difference) and where its decoder came out different ("" nowhere).
struct BesideThePlainRun {
  double added_first_loss;
  std::string decoder_difference;
};
BesideThePlainRun joint_run_beside_the_plain_one(const JointTrainOptions& options) {
  const auto& f = fixture();
  const auto& s = stages();
  std::vector<double> losses;
  const auto run = train_joint(f.config, f.dir + "/decoder.safetensors", s.train_pairs, s.valid_pairs, s.stats,
                               tiny_params(test::temp_dir(), 60), options, record(losses));
  EXPECT_TRUE(run.finished);
  return {losses.at(0) - s.joint_losses.at(0), first_difference(run.weights_paths.at(1), s.joint.weights_paths.at(1))};
}

// The wrong-plan term: at the first step it adds weight x a x softplus(own-plan loss - another plan's loss), about
// weight x a x ln 2 while plans barely matter, and it changes what is learned.
TEST(TrainJoint, AWrongPlanTermIsAddedWithItsWeightAndChangesTheWeights) {
  JointTrainOptions options;
  options.wrong_plan_weight = 3;
  const auto run = joint_run_beside_the_plain_one(options);
  EXPECT_GT(run.added_first_loss, 0);
  EXPECT_LT(run.added_first_loss, 3 * std::log(2.0) * 1.05);
  EXPECT_NE(run.decoder_difference, "");
}

// The mirror term, like the wrong-plan term, starts at about weight x a x ln 2 and changes what is learned; a probe
// with more than two classes has no one boundary and is refused, naming its file.
TEST(TrainJoint, AMirrorProbeTermIsAddedWithItsWeightAndNeedsATwoClassProbe) {
  const auto& f = fixture();
  const auto& s = stages();
  const auto probes = fs::path(f.dir) / ModelFiles::kProbeDir;
  JointTrainOptions options;
  options.mirror_probe = (probes / "sentiment").string();
  options.mirror_weight = 3;
  const auto run = joint_run_beside_the_plain_one(options);
  EXPECT_GT(run.added_first_loss, 0);
  EXPECT_LT(run.added_first_loss, 3 * std::log(2.0) * 1.05);
  EXPECT_NE(run.decoder_difference, "");

  options.mirror_probe = (probes / "topic").string();
  try {
    train_joint(f.config, f.dir + "/decoder.safetensors", s.train_pairs, s.valid_pairs, s.stats,
                tiny_params(test::temp_dir(), 2), options);
    FAIL() << "a four-class probe was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(e.where().file, options.mirror_probe + ".json");
    EXPECT_EQ(e.where().field, "classes");
    EXPECT_NE(e.message().find("has 4 classes"), std::string::npos) << e.what();
  }
}

TEST(TrainJoint, RejectsStatisticsOfAnotherLatentSize) {
  const auto& f = fixture();
  const auto& s = stages();
  const auto stats = test::temp_dir() + "/stats.json";
  write_file_atomic(stats, R"({"mean": [0, 0], "std": [1, 1]})");
  try {
    train_joint(f.config, f.dir + "/decoder.safetensors", s.train_pairs, s.valid_pairs, stats,
                tiny_params(test::temp_dir(), 2));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Incompatible);
    EXPECT_NE(std::string(e.what()).find("stats.json"), std::string::npos) << e.what();
  }
}

TEST(TrainDiffusion, VLossFallsAndTheAverageIsWritten) {
  const auto& s = stages();
  ASSERT_TRUE(s.diffusion.finished);
  const auto [first, last] = ends(s.diffusion_losses, 5);
  EXPECT_LT(last, first) << "from " << first << " to " << last;
  EXPECT_GT(s.diffusion.metrics.at("val_loss"), 0);
  EXPECT_NE(safetensors::read(s.diffusion.weights_paths.at(0)).find("null_embedding"), nullptr);
}

// A step at learning rate 0 from the trained network leaves it, and so its average, as it was.
TEST(TrainDiffusion, WarmStartsTheNetworkAndItsAverageFromTheGivenWeights) {
  const auto& f = fixture();
  const auto& s = stages();
  auto params = frozen_step_params();
  const auto trained = s.diffusion.weights_paths.at(0);
  const auto warm = train_diffusion(f.config, s.train_pairs, s.valid_pairs, s.stats, params, {0.5, 0.1, trained});
  EXPECT_EQ(first_difference(warm.weights_paths.at(0), trained), "");
}

// The diffusion stage also checkpoints its moving average (a `kept` module): a killed and resumed run ends with
// bitwise the same averaged weights.
TEST(TrainDiffusion, ResumesAfterAKillToTheSameAverageBitwise) {
  const auto& f = fixture();
  const auto& s = stages();
  expect_bitwise_resume([&](const std::string& out, const TrainProgressFn& progress) {
    return train_diffusion(f.config, s.train_pairs, s.valid_pairs, s.stats, tiny_params(out, 10), {0.8, 0.1}, progress);
  });
}

TEST(TrainEncoder, ResumesAfterAKillToTheSameWeightsBitwise) {
  const auto& f = fixture();
  expect_bitwise_resume([&](const std::string& out, const TrainProgressFn& progress) {
    auto params = tiny_params(out, 10);
    params.batch_size = 8;
    EncoderTrainOptions supervised;  // the labelled draws come from the step's generator too
    supervised.labelled_csvs = {std::string(DGLM_TEST_DATA_DIR) + "/csv/sentiment.csv"};
    supervised.tokenizer = f.dir + "/tokenizer.model";
    supervised.labelled_batch = 8;
    return train_encoder(f.config, f.train_tokens, f.valid_tokens, params, supervised, progress);
  });
}

TEST(TrainJoint, ResumesAfterAKillToTheSameWeightsBitwise) {
  const auto& f = fixture();
  const auto& s = stages();
  expect_bitwise_resume([&](const std::string& out, const TrainProgressFn& progress) {
    return train_joint(f.config, f.dir + "/decoder.safetensors", s.train_pairs, s.valid_pairs, s.stats,
                       tiny_params(out, 10), {}, progress);
  });
}

TEST(AssembleModel, TrainedPartsMakeAModelThatOpensAndGenerates) {
  const auto& f = fixture();
  const auto& s = stages();
  for (const bool half : {false, true}) {
    AssembleInputs in;
    in.config = f.config;
    in.tokenizer = f.dir + "/tokenizer.model";
    in.encoder = s.encoder.weights_paths.at(0);
    in.diffusion = s.diffusion.weights_paths.at(0);
    in.prompt = s.joint.weights_paths.at(0);
    in.decoder = s.joint.weights_paths.at(1);
    in.stats = s.stats;
    // The probes, plus weights no probe names (left by an interrupted save): those stay behind.
    in.probes_dir = test::temp_dir() + "/probes-with-orphan";
    fs::create_directories(in.probes_dir);
    for (const auto& entry : fs::directory_iterator(f.dir + "/probes"))
      fs::copy_file(entry.path(), fs::path(in.probes_dir) / entry.path().filename(), fs::copy_options::overwrite_existing);
    fs::copy_file(s.encoder.weights_paths.at(0), in.probes_dir + "/sentiment.orphan.safetensors",
                  fs::copy_options::overwrite_existing);
    in.half = half;
    const auto dir = test::temp_dir() + "/assembled";
    const auto info = assemble_model(dir, in);
    EXPECT_EQ(info.probes.size(), 3u);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir + "/probes"), fs::directory_iterator()), 6);  // 3 x (JSON, weights)
    EXPECT_FALSE(fs::exists(dir + "/probes/sentiment.orphan.safetensors"));
    const auto stats = nlohmann::json::parse(read_file_text(s.stats));
    EXPECT_FLOAT_EQ(info.config.latent_mean.at(2), stats.at("mean")[2].get<float>());
    EXPECT_FLOAT_EQ(info.config.latent_std.at(5), stats.at("std")[5].get<float>());
    const auto decoder_bytes = info.parts.at("decoder").bytes;
    EXPECT_EQ(decoder_bytes < static_cast<int64_t>(fs::file_size(in.decoder)) * 3 / 4, half) << "half = " << half;

    Generator generator(Model::open(dir));
    GenerateParams params;
    params.prefix = "The old sailor";
    params.samples = 2;
    params.max_new_tokens = 4;
    params.steps = 4;
    params.guides = {{"sentiment", 2.0f, ""}};
    const auto result = generator.run(params);
    ASSERT_EQ(result.status, Status::Ok);
    ASSERT_EQ(result.candidates.size(), 2u);
    EXPECT_FALSE(result.candidates[0].tokens.empty());
  }
}

}  // namespace
}  // namespace dglm
