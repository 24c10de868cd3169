// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>

#include "decoding/logit_processors.h"
#include "dglm/error.h"
#include "test_support.h"

namespace {

using dglm::Error;
using dglm::ErrorKind;
using dglm::expect_invalid_argument;

constexpr float kInf = std::numeric_limits<float>::infinity();

bool close(const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-5) {
  return a.sizes() == b.sizes() && torch::allclose(a, b, /*rtol=*/0, tolerance, /*equal_nan=*/false);
}

// Logits of a known distribution over 4 tokens: token 1 (0.5), token 3 (0.25), token 2 (0.15), token 0 (0.1).
torch::Tensor four_token_logits() { return torch::tensor({{0.1f, 0.5f, 0.15f, 0.25f}}).log(); }

torch::Tensor no_history() { return torch::zeros({1, 0}, torch::kLong); }

// The tokens TopP(p) leaves finite, in ascending order.
std::vector<int64_t> kept_by_top_p(float p) {
  auto logits = four_token_logits();
  dglm::TopP(p).apply(logits, no_history());
  std::vector<int64_t> kept;
  for (int64_t token = 0; token < 4; ++token)
    if (std::isfinite(logits[0][token].item<float>())) kept.push_back(token);
  // Survivors keep their logits.
  auto finite = torch::isfinite(logits);
  EXPECT_TRUE(close(logits.masked_select(finite), four_token_logits().masked_select(finite)));
  return kept;
}

TEST(Temperature, DividesLogits) {
  auto logits = torch::tensor({{2.0f, -1.0f, 0.5f, 0.0f}});
  dglm::Temperature(0.5f).apply(logits, no_history());
  EXPECT_TRUE(close(logits, torch::tensor({{4.0f, -2.0f, 1.0f, 0.0f}})));
}

TEST(RepetitionPenalty, PenalisesSeenTokensOnceBySign) {
  auto logits = torch::tensor({{2.0f, -2.0f, 1.0f, 0.5f}, {2.0f, -2.0f, 1.0f, 0.5f}});
  // Row 0 saw token 1 three times and token 0 once; row 1 saw only token 3.
  auto history = torch::tensor({{1, 0, 1, 1}, {3, 3, 3, 3}}, torch::kLong);
  dglm::RepetitionPenalty(2.0f).apply(logits, history);
  EXPECT_TRUE(close(logits, torch::tensor({{1.0f, -4.0f, 1.0f, 0.5f}, {2.0f, -2.0f, 1.0f, 0.25f}})));
}

TEST(RepetitionPenalty, EmptyHistoryChangesNothing) {
  auto logits = torch::tensor({{2.0f, -2.0f, 1.0f, 0.5f}});
  dglm::RepetitionPenalty(1.2f).apply(logits, no_history());
  EXPECT_TRUE(close(logits, torch::tensor({{2.0f, -2.0f, 1.0f, 0.5f}})));
}

TEST(TopP, KeepsSmallestSetReachingP) {
  EXPECT_EQ(kept_by_top_p(0.3f), (std::vector<int64_t>{1}));
  EXPECT_EQ(kept_by_top_p(0.7f), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(kept_by_top_p(0.85f), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(kept_by_top_p(0.95f), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(kept_by_top_p(1.0f), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(kept_by_top_p(1e-6f), (std::vector<int64_t>{1}));
}

TEST(TopP, WorksPerRow) {
  auto logits = torch::cat({four_token_logits(), four_token_logits().flip({1})});
  dglm::TopP(0.7f).apply(logits, torch::zeros({2, 0}, torch::kLong));
  auto kept = torch::isfinite(logits);
  EXPECT_TRUE(torch::equal(kept, torch::tensor({{false, true, false, true}, {true, false, true, false}})));
}

TEST(Processors, RejectInvalidArguments) {
  expect_invalid_argument([] { dglm::Temperature(0.0f); });
  expect_invalid_argument([] { dglm::Temperature(-1.0f); });
  expect_invalid_argument([] { dglm::Temperature(std::nanf("")); });
  expect_invalid_argument([] { dglm::RepetitionPenalty(0.0f); });
  expect_invalid_argument([] { dglm::TopP(0.0f); });
  expect_invalid_argument([] { dglm::TopP(1.5f); });
}

TEST(LogitChain, AppliesInOrder) {
  dglm::LogitChain chain;
  EXPECT_TRUE(chain.empty());
  chain.add(std::make_unique<dglm::RepetitionPenalty>(2.0f)).add(std::make_unique<dglm::Temperature>(0.5f));
  EXPECT_FALSE(chain.empty());
  auto logits = torch::tensor({{2.0f, -2.0f, 1.0f, 0.5f}});
  chain.apply(logits, torch::tensor({{0, 1}}, torch::kLong));
  EXPECT_TRUE(close(logits, torch::tensor({{2.0f, -8.0f, 2.0f, 1.0f}})));
}

TEST(SampleTokens, SameSeedSameTokens) {
  auto logits = torch::zeros({64, 4});  // uniform: any seed dependence shows
  auto draw = [&](uint64_t seed) {
    auto generator = at::detail::createCPUGenerator(seed);
    return torch::cat({dglm::sample_tokens(logits, generator), dglm::sample_tokens(logits, generator)});
  };
  auto first = draw(42);
  EXPECT_EQ(first.sizes(), (std::vector<int64_t>{128}));
  EXPECT_EQ(first.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(first, draw(42)));
  EXPECT_FALSE(torch::equal(first, draw(43)));
}

TEST(SampleTokens, FollowsTheDistribution) {
  auto generator = at::detail::createCPUGenerator(5);
  auto tokens = dglm::sample_tokens(four_token_logits().expand({20000, 4}), generator);
  auto frequencies = torch::bincount(tokens, {}, 4).to(torch::kFloat) / 20000.0;
  EXPECT_TRUE(close(frequencies, torch::tensor({0.1f, 0.5f, 0.15f, 0.25f}), 0.015));
}

TEST(SampleTokens, NeverDrawsRemovedTokens) {
  auto logits = torch::tensor({{-kInf, 0.0f, -kInf, 0.0f}}).expand({500, 4});
  auto generator = at::detail::createCPUGenerator(1);
  auto tokens = dglm::sample_tokens(logits, generator);
  EXPECT_TRUE(((tokens == 1) | (tokens == 3)).all().item<bool>());
}

TEST(SampleTokens, TinyTopPIsGreedy) {
  auto logits = torch::randn({200, 7});
  auto processed = logits.clone();
  dglm::TopP(1e-6f).apply(processed, torch::zeros({200, 0}, torch::kLong));
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto generator = at::detail::createCPUGenerator(seed);
    EXPECT_TRUE(torch::equal(dglm::sample_tokens(processed, generator), logits.argmax(-1)));
  }
}

}  // namespace
