// SPDX-License-Identifier: GPL-3.0-or-later
// The baselines on the tiny random model: plain autoregressive sampling and token-level control share the
// generator's decoding loop, seed handling and result types; the re-weighting arithmetic on a hand-made case.
#include <gtest/gtest.h>

#include <cmath>

#include "dglm/baselines.h"
#include "dglm/error.h"
#include "dglm/tiny_model.h"
#include "eval/token_level.h"
#include "pipeline/model_impl.h"
#include "test_support.h"

namespace dglm {
namespace {

class BaselinesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = test::temp_dir() + "/tiny";
    make_tiny_model(dir, 1);
    model_ = new Model(Model::open(dir));
  }
  static void TearDownTestSuite() { delete model_; }
  static GenerateParams params() {
    GenerateParams p;
    p.prefix = "The old sailor wrote about";
    p.samples = 3;
    p.max_new_tokens = 6;
    p.seed = 42;
    return p;
  }
  static Model* model_;
};
Model* BaselinesTest::model_ = nullptr;

std::vector<std::string> texts_of(const GenerateResult& result) {
  std::vector<std::string> texts;
  for (const auto& c : result.candidates) texts.push_back(c.text);
  return texts;
}

TEST_F(BaselinesTest, AutoregressiveFillsTheSameResultTypesAsTheGenerator) {
  std::vector<std::string> streamed(3);
  const auto callbacks = streaming_into(streamed);
  const auto result = generate_autoregressive(*model_, params(), callbacks);
  ASSERT_EQ(result.status, Status::Ok);
  ASSERT_EQ(result.candidates.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& c = result.candidates[k];
    EXPECT_EQ(streamed[k], c.text);
    EXPECT_LE(c.tokens.size(), 6u);
    double nll = 0;
    for (const auto& t : c.tokens) nll -= t.logprob;
    if (!c.tokens.empty()) EXPECT_NEAR(c.perplexity, std::exp(nll / static_cast<double>(c.tokens.size())), 1e-6 * c.perplexity);
    EXPECT_TRUE(c.proposal.empty()) << "no proposal without diffusion";
    EXPECT_FALSE(c.adherence.has_value()) << "nothing to adhere to";
    EXPECT_EQ(c.probe_scores.size(), 3u);
  }
  EXPECT_EQ(result.times.diffusion_s, 0);
  EXPECT_GT(result.times.decode_s, 0);
}

// Adherence, how closely the words followed the plan: the cosine of the re-encoded text with its proposal (both
// unit norm). The baselines write without a plan.
TEST_F(BaselinesTest, OnlyDglmHasAPlanToAdhereTo) {
  auto& impl = *model_->impl();
  for (const auto& c : generate_with(Method::Dglm, *model_, params()).candidates) {
    ASSERT_TRUE(c.adherence.has_value());
    const auto written = impl.embed({c.text}, /*keep_end=*/false)[0].to(torch::kCPU);
    EXPECT_NEAR(*c.adherence, torch::dot(written, torch::tensor(c.proposal)).item<float>(), 1e-5);
  }
  auto p = params();
  p.guides = {{"sentiment", 3, ""}};
  for (const auto& c : generate_token_level(*model_, p).candidates) EXPECT_FALSE(c.adherence.has_value());
}

TEST_F(BaselinesTest, SameSeedSameOutputForBothBaselines) {
  auto p = params();
  EXPECT_EQ(texts_of(generate_autoregressive(*model_, p)), texts_of(generate_autoregressive(*model_, p)));
  p.guides = {{"sentiment", 3, ""}};
  EXPECT_EQ(texts_of(generate_token_level(*model_, p)), texts_of(generate_token_level(*model_, p)));
  auto other = params();
  other.seed = 7;
  EXPECT_NE(texts_of(generate_autoregressive(*model_, params())), texts_of(generate_autoregressive(*model_, other)));
}

TEST_F(BaselinesTest, AutoregressiveRejectsGuidesClearly) {
  auto p = params();
  p.guides = {{"sentiment", 2, ""}};
  try {
    generate_autoregressive(*model_, p);
    FAIL() << "guides accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("cannot steer"), std::string::npos) << e.what();
  }
}

// Drafts are compared by adherence to their proposal; without one there is nothing to choose by.
TEST_F(BaselinesTest, BothBaselinesRejectDraftsNamingTheField) {
  auto p = params();
  p.drafts = 2;
  for (const auto method : {Method::Autoregressive, Method::TokenLevel}) {
    try {
      generate_with(method, *model_, p);
      ADD_FAILURE() << to_string(method) << " accepted drafts";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_EQ(e.where().field, "drafts") << e.what();
    }
  }
}

TEST_F(BaselinesTest, TokenLevelWithoutGuidesOverTheWholeVocabularyIsAutoregressive) {
  const auto vocabulary = model_->info().config.vocab_size;
  const auto autoregressive = texts_of(generate_autoregressive(*model_, params()));
  EXPECT_EQ(texts_of(generate_token_level(*model_, params(), TokenLevelParams{vocabulary})), autoregressive);
  EXPECT_NE(autoregressive, std::vector<std::string>(3, "")) << "the comparison needs some text";
}

TEST_F(BaselinesTest, TokenLevelGuidanceMovesTheProbeScoreOfPrefixPlusContinuation) {
  // FUDGE steers p(target | E(prefix + continuation)); compare the mean of that over many samples for a
  // strong positive and a strong negative weight (the tiny model's probes are random, the direction is not).
  auto mean_score = [&](float weight) {
    auto p = params();
    p.samples = 16;
    p.max_new_tokens = 8;
    p.guides = {{"sentiment", weight, "positive"}};
    double sum = 0;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      p.seed = seed;
      const auto result = generate_token_level(*model_, p);
      auto& impl = *model_->impl();
      std::vector<std::string> texts;
      for (const auto& c : result.candidates) texts.push_back(p.prefix + c.text);
      sum += impl.probes.at("sentiment").log_probs(impl.embed(texts, true)).exp().select(1, 1).mean().item<double>();
    }
    return sum / 3;
  };
  EXPECT_GT(mean_score(20), mean_score(-20));
}

TEST_F(BaselinesTest, TokenLevelRejectsUnknownProbesAndBadTopK) {
  auto p = params();
  p.guides = {{"colour", 2, ""}};
  EXPECT_THROW(generate_token_level(*model_, p), Error);
  EXPECT_THROW(generate_token_level(*model_, params(), TokenLevelParams{0}), Error);
}

TEST_F(BaselinesTest, CancellingStopsBothBaselines) {
  GenerateCallbacks callbacks;
  callbacks.progress = [](Stage, float fraction) { return fraction < 0.5f; };
  EXPECT_EQ(generate_autoregressive(*model_, params(), callbacks).status, Status::Cancelled);
  EXPECT_EQ(generate_token_level(*model_, params(), {}, callbacks).status, Status::Cancelled);
}

TEST_F(BaselinesTest, MethodsByName) {
  EXPECT_EQ(method_from_string("ar"), Method::Autoregressive);
  EXPECT_EQ(method_from_string("fudge"), Method::TokenLevel);
  EXPECT_EQ(method_from_string("dglm"), Method::Dglm);
  EXPECT_THROW(method_from_string("pplm"), Error);
  EXPECT_EQ(generate_with(Method::Dglm, *model_, params()).candidates.front().proposal.size(), 16u);
}

TEST(TokenLevelReweighting, MultipliesTopKProbabilitiesByTheAttributeProbabilityToTheWeight) {
  // p = (0.1, 0.2, 0.3, 0.4); candidates 3 and 2 with attribute probabilities 0.2 and 0.9, weight 2:
  // 0.4 * 0.04 = 0.016 and 0.3 * 0.81 = 0.243, renormalised; tokens 0 and 1 are out.
  const auto logits = torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).log().unsqueeze(0);
  const auto candidates = torch::tensor({3, 2}, torch::kLong).unsqueeze(0);
  const auto attribute = (2 * torch::tensor({0.2f, 0.9f}).log()).unsqueeze(0);
  const auto probs = torch::softmax(eval::reweight_candidates(logits, candidates, attribute), 1)[0];
  EXPECT_NEAR(probs[0].item<float>(), 0.0f, 1e-7);
  EXPECT_NEAR(probs[1].item<float>(), 0.0f, 1e-7);
  EXPECT_NEAR(probs[2].item<float>(), 0.243f / 0.259f, 1e-5);
  EXPECT_NEAR(probs[3].item<float>(), 0.016f / 0.259f, 1e-5);
}

}  // namespace
}  // namespace dglm
