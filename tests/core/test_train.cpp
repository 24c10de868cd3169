// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "dglm/tiny_model.h"
#include "dglm/train.h"
#include "test_support.h"
#include "train/corpus.h"

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
  EXPECT_TRUE(fs::exists(result.weights_path));
  EXPECT_NE(safetensors::read(result.weights_path).find("wte.weight"), nullptr);
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

  EXPECT_THROW(train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(killed, 10),
                             [](const TrainProgress& p) {
                               if (p.step == 6) throw std::runtime_error("killed");
                               return true;
                             }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(killed + "/decoder.safetensors"));
  const auto resumed = train_decoder(f.config, f.train_tokens, f.valid_tokens, tiny_params(killed, 10));
  ASSERT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.resumed_from, 4);  // the checkpoint before the kill

  const auto a = safetensors::read(reference.weights_path), b = safetensors::read(resumed.weights_path);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_TRUE(a.tensors[i].bytes == b.tensors[i].bytes) << a.tensors[i].name << " differs";
  }
  EXPECT_EQ(reference.metrics.at("val_loss"), resumed.metrics.at("val_loss"));
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

}  // namespace
}  // namespace dglm
