// SPDX-License-Identifier: GPL-3.0-or-later
// The pipeline end to end on the tiny random model: streaming, determinism, cancellation, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/generator.h"
#include "dglm/probe.h"
#include "dglm/safetensors.h"
#include "dglm/tiny_model.h"
#include "dglm/tokenizer.h"
#include "pipeline/generation_run.h"
#include "test_support.h"

namespace dglm {
namespace {
namespace fs = std::filesystem;

const std::string& tiny_model_dir() {
  static const std::string dir = [] {
    const auto d = test::temp_dir() + "/tiny";
    make_tiny_model(d, 1);
    return d;
  }();
  return dir;
}

GenerateParams small_params() {
  GenerateParams p;
  p.prefix = "The old sailor wrote about";
  p.samples = 3;
  p.max_new_tokens = 6;
  p.steps = 8;
  p.seed = 42;
  return p;
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no dglm::Error thrown";
  return ErrorKind::Internal;
}

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Model(Model::open(tiny_model_dir())); }
  static void TearDownTestSuite() { delete model_; }
  static Model* model_;
};
Model* GeneratorTest::model_ = nullptr;

TEST_F(GeneratorTest, MaxNewTokensIsTheLongestRequestAccepted) {
  Generator generator(*model_);
  auto params = small_params();
  params.samples = 1;
  params.max_new_tokens = max_new_tokens(model_->info().config);
  EXPECT_EQ(generator.run(params).status, Status::Ok);
  params.max_new_tokens += 1;
  EXPECT_EQ(kind_of([&] { generator.run(params); }), ErrorKind::InvalidArgument);
}

TEST_F(GeneratorTest, ProducesKCandidatesWithConsistentTokensPerplexityAndScores) {
  Generator generator(*model_);
  std::vector<std::string> streamed(3);
  const auto callbacks = streaming_into(streamed);
  const auto result = generator.run(small_params(), callbacks);
  ASSERT_EQ(result.status, Status::Ok);
  ASSERT_EQ(result.candidates.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& c = result.candidates[k];
    EXPECT_EQ(streamed[k], c.text) << "streamed pieces concatenate to the final text";
    EXPECT_LE(c.tokens.size(), 6u);
    double nll = 0;
    for (const auto& t : c.tokens) {
      EXPECT_LE(t.logprob, 0.0f);
      nll -= t.logprob;
    }
    if (!c.tokens.empty()) EXPECT_NEAR(c.perplexity, std::exp(nll / static_cast<double>(c.tokens.size())), 1e-6 * c.perplexity);
    ASSERT_EQ(c.proposal.size(), 16u);
    double norm = 0;
    for (float x : c.proposal) norm += x * x;
    EXPECT_NEAR(norm, 1.0, 1e-4);
    ASSERT_EQ(c.probe_scores.size(), 3u);
    ASSERT_EQ(c.probe_scores.at("topic").size(), 4u);
    double total = 0;
    for (float p : c.probe_scores.at("topic")) total += p;
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
  EXPECT_GT(result.times.diffusion_s, 0);
  EXPECT_GT(result.times.first_token_s, 0);
}

// SentencePiece drops the word-start mark of a text's first piece; a continuation that starts a new word must
// still start with its space, or it is glued to the prefix in the editor.
TEST_F(GeneratorTest, ContinuationsKeepTheSpaceBeforeTheirFirstWord) {
  const auto tokenizer = load_sentencepiece(tiny_model_dir() + "/tokenizer.model");
  Generator generator(*model_);
  auto p = small_params();
  p.samples = 8;
  int word_starts = 0;
  for (const auto& c : generator.run(p).candidates) {
    if (c.tokens.empty()) continue;
    const bool starts_word = tokenizer->piece(c.tokens.front().id).rfind("\xe2\x96\x81", 0) == 0;
    word_starts += starts_word;
    EXPECT_EQ(!c.text.empty() && c.text.front() == ' ', starts_word) << "'" << c.text << "'";
    EXPECT_EQ(c.tokens.front().text.front() == ' ', starts_word);
  }
  EXPECT_GT(word_starts, 0) << "no sample started a word: the test saw nothing";
}

// Class probabilities of the tiny model's probe `name` for a unit-norm embedding, from its files: softmax(W x + b).
std::vector<double> probe_reading(const std::string& name, const std::vector<float>& embedding) {
  const auto dir = tiny_model_dir() + "/probes/";
  const auto weights_file =
      nlohmann::json::parse(read_file_text(dir + name + ".json")).at("weights").get<std::string>();
  const auto weights = safetensors::read(dir + weights_file);
  const auto floats = [&](const char* tensor) {
    const auto* t = weights.find(tensor);
    EXPECT_TRUE(t && t->dtype == safetensors::DType::F32) << tensor;
    std::vector<float> values(t ? static_cast<std::size_t>(t->numel()) : 0);
    if (t) std::memcpy(values.data(), t->bytes.data(), t->bytes.size());
    return values;
  };
  const auto w = floats("weight"), b = floats("bias");
  std::vector<double> logits(b.size());
  for (std::size_t c = 0; c < b.size(); ++c) {
    logits[c] = b[c];
    for (std::size_t i = 0; i < embedding.size(); ++i) logits[c] += w[c * embedding.size() + i] * embedding[i];
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (auto& l : logits) total += (l = std::exp(l - top));
  for (auto& l : logits) l /= total;
  return logits;
}

// The plan's scores are each probe's reading of the proposal the words were written from, and guidance moves
// them towards its class (on the tiny model's random weights the text need not follow).
TEST_F(GeneratorTest, PlanScoresReadTheProposalThatGuidanceSteered) {
  Generator generator(*model_);
  auto p = small_params();
  p.samples = 6;
  const auto unguided = generator.run(p);
  p.guides = {{"topic", 30.0f, "science"}};
  const auto guided = generator.run(p);
  double unguided_science = 0, guided_science = 0;
  for (std::size_t k = 0; k < 6; ++k) {
    const auto& c = guided.candidates[k];
    ASSERT_EQ(c.plan_scores.size(), 3u);
    for (const auto& [probe, scores] : c.plan_scores) {
      const auto expected = probe_reading(probe, c.proposal);
      ASSERT_EQ(scores.size(), expected.size()) << probe;
      for (std::size_t i = 0; i < scores.size(); ++i) EXPECT_NEAR(scores[i], expected[i], 1e-4) << probe << " " << i;
    }
    EXPECT_NE(c.plan_scores.at("topic"), c.probe_scores.at("topic")) << "the plan is not the text";
    guided_science += c.plan_scores.at("topic")[2] / 6;
    unguided_science += unguided.candidates[k].plan_scores.at("topic")[2] / 6;
  }
  EXPECT_GT(guided_science, unguided_science + 0.2) << "unguided " << unguided_science << ", guided " << guided_science;
}

TEST(MostAdherentDrafts, KeepsTheHighestAdherenceOfEachProposalsDraftsInOrder) {
  std::vector<Candidate> drafts;
  for (const auto& [text, adherence] : std::vector<std::pair<std::string, float>>{
           {"a0", 0.1f}, {"a1", 0.5f}, {"a2", 0.3f}, {"b0", 0.9f}, {"b1", -0.2f}, {"b2", 0.95f}}) {
    drafts.emplace_back();
    drafts.back().text = text;
    drafts.back().adherence = adherence;
  }
  std::vector<std::string> kept;
  for (const auto& c : pipeline::most_adherent_drafts(drafts, 3)) kept.push_back(c.text);
  EXPECT_EQ(kept, (std::vector<std::string>{"a1", "b2"}));
  kept.clear();
  for (const auto& c : pipeline::most_adherent_drafts(drafts, 2)) kept.push_back(c.text);
  EXPECT_EQ(kept, (std::vector<std::string>{"a1", "b0", "b2"}));
  EXPECT_EQ(pipeline::most_adherent_drafts(drafts, 1).size(), 6u);
}

// K proposals, each written `drafts` times: K candidates come back, each the draft closest to its proposal,
// streamed under its own sample index once the drafts are compared.
TEST_F(GeneratorTest, DraftsReturnOneStreamedCandidatePerProposal) {
  Generator generator(*model_);
  auto p = small_params();
  p.samples = 2;
  p.drafts = 4;
  std::vector<std::string> streamed(2);
  const auto callbacks = streaming_into(streamed);
  const auto drafted = generator.run(p, callbacks);
  ASSERT_EQ(drafted.candidates.size(), 2u);
  EXPECT_GE(drafted.times.first_token_s, drafted.times.decode_s) << "the first token streams after every draft";
  p.drafts = 1;
  const auto single = generator.run(p);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& c = drafted.candidates[k];
    EXPECT_EQ(streamed[k], c.text);
    ASSERT_TRUE(c.adherence.has_value());
    EXPECT_EQ(c.proposal, single.candidates[k].proposal) << "drafts share the diffusion's proposals";
    ASSERT_EQ(c.probe_scores.size(), 3u);
  }
}

// The kept drafts follow their proposals more closely than single continuations do, on average over prompts.
TEST_F(GeneratorTest, DraftsRaiseAdherence) {
  Generator generator(*model_);
  auto p = small_params();
  p.samples = 8;
  const auto mean_adherence = [&](int drafts) {
    p.drafts = drafts;
    double total = 0;
    for (const auto& c : generator.run(p).candidates) total += *c.adherence / 8;
    return total;
  };
  const double single = mean_adherence(1), best_of_four = mean_adherence(4);
  EXPECT_GT(best_of_four, single) << "single " << single << ", best of four " << best_of_four;
}

TEST_F(GeneratorTest, SameSeedSameOutputDifferentSeedDifferentOutput) {
  Generator generator(*model_);
  auto p = small_params();
  const auto a = generator.run(p), b = generator.run(p);
  p.seed = 43;
  const auto c = generator.run(p);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(a.candidates[k].text, b.candidates[k].text);
    EXPECT_EQ(a.candidates[k].proposal, b.candidates[k].proposal);
  }
  EXPECT_NE(a.candidates[0].proposal, c.candidates[0].proposal);
}

TEST_F(GeneratorTest, ZeroGuidanceWeightIsExactlyUnguided) {
  Generator generator(*model_);
  auto p = small_params();
  const auto plain = generator.run(p);
  p.guides = {{"sentiment", 0.0f, ""}, {"topic", 0.0f, "science"}};
  const auto zero = generator.run(p);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(plain.candidates[k].proposal, zero.candidates[k].proposal);
  p.guides = {{"sentiment", 5.0f, ""}};
  EXPECT_NE(generator.run(p).candidates[0].proposal, plain.candidates[0].proposal);
}

TEST_F(GeneratorTest, EmptyPrefixIsUnconditional) {
  Generator generator(*model_);
  auto p = small_params();
  p.prefix.clear();
  const auto result = generator.run(p);
  EXPECT_EQ(result.status, Status::Ok);
  EXPECT_EQ(result.candidates.size(), 3u);
}

TEST_F(GeneratorTest, OverlongPrefixIsTruncatedFromTheLeftAndSaysSo) {
  Generator generator(*model_);
  auto p = small_params();
  p.prefix.clear();
  for (int i = 0; i < 40; ++i) p.prefix += "The young writer dreamed of the winter harvest. ";
  const auto result = generator.run(p);
  ASSERT_EQ(result.status, Status::Ok);
  ASSERT_FALSE(result.warnings.empty());
  EXPECT_NE(result.warnings.front().find("truncated from the left"), std::string::npos);
}

TEST_F(GeneratorTest, AbortStopsWithinOneStepAndReturnsNoCandidates) {
  for (const Stage abort_at : {Stage::Encode, Stage::Diffusion, Stage::Decode}) {
    Generator generator(*model_);
    int calls_after_abort = 0;
    bool aborted = false;
    int diffusion_calls = 0;
    int reports_of_chosen_stage = 0;
    GenerateCallbacks callbacks;
    callbacks.progress = [&](Stage stage, float) {
      if (aborted) ++calls_after_abort;
      if (stage == Stage::Diffusion) ++diffusion_calls;
      // Abort on the first report of Encode, the third of the other stages (mid-stage).
      if (stage != abort_at) return true;
      if (++reports_of_chosen_stage < 3 && abort_at != Stage::Encode) return true;
      aborted = true;
      return false;
    };
    const auto result = generator.run(small_params(), callbacks);
    EXPECT_EQ(result.status, Status::Cancelled) << to_string(abort_at);
    EXPECT_TRUE(result.candidates.empty());
    EXPECT_EQ(calls_after_abort, 0) << "no work reported after the abort";
    if (abort_at == Stage::Diffusion) EXPECT_EQ(diffusion_calls, 3);
  }
}

TEST_F(GeneratorTest, ExceptionInACallbackBecomesAnErrorNotACrash) {
  Generator generator(*model_);
  GenerateCallbacks callbacks;
  callbacks.token = [](int, const Token&) { throw std::runtime_error("widget went away"); };
  try {
    generator.run(small_params(), callbacks);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("widget went away"), std::string::npos);
  }
  // The generator is still usable afterwards.
  EXPECT_EQ(generator.run(small_params()).status, Status::Ok);
}

TEST_F(GeneratorTest, BadParametersAreClearErrorsBeforeAnyWork) {
  Generator generator(*model_);
  auto with = [&](const std::function<void(GenerateParams&)>& edit) {
    auto p = small_params();
    edit(p);
    return kind_of([&] { generator.run(p); });
  };
  EXPECT_EQ(with([](auto& p) { p.samples = 0; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.max_new_tokens = 0; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.max_new_tokens = 1000; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.drafts = 0; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.drafts = kMaxDrafts + 1; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.sigma2 = 1.5f; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.sigma2 = std::nanf(""); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.proposal_guidance = -1; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.proposal_guidance = kMaxProposalGuidance + 1; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.proposal_guidance = std::nanf(""); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.steps = 0; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.decoding.top_p = 0; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.guides = {{"nonexistent", 1.0f, ""}}; }), ErrorKind::NotFound);
  EXPECT_EQ(with([](auto& p) { p.guides = {{"topic", 1.0f, "cooking"}}; }), ErrorKind::NotFound);
  EXPECT_EQ(with([](auto& p) { p.guides = {{"sentiment", INFINITY, ""}}; }), ErrorKind::InvalidArgument);
  EXPECT_EQ(with([](auto& p) { p.guides = {{"sentiment", std::nanf(""), ""}}; }), ErrorKind::InvalidArgument);
}

// Each step keeps its most likely tokens: sorted, each with the text it would have added, the sampled token's
// entry matching it. Near-greedy decoding draws the likeliest one every time.
TEST_F(GeneratorTest, EachTokenCarriesTheStepsMostLikelyAlternatives) {
  Generator generator(*model_);
  auto p = small_params();
  p.decoding.alternatives = 4;
  auto greedy = p;
  greedy.decoding.temperature = 0.01f;
  greedy.decoding.repetition_penalty = 1;
  for (const bool is_greedy : {false, true}) {
    const auto& params = is_greedy ? greedy : p;
    for (const auto& c : generator.run(params).candidates) {
      std::string before;
      for (const auto& token : c.tokens) {
        ASSERT_EQ(token.alternatives.size(), 4u);
        for (std::size_t j = 1; j < 4; ++j) EXPECT_GE(token.alternatives[j - 1].logprob, token.alternatives[j].logprob);
        EXPECT_GE(token.alternatives.front().logprob, token.logprob) << "nothing was likelier than the first";
        for (const auto& choice : token.alternatives) {
          EXPECT_LE(choice.logprob, 0.0f);
          if (choice.id != token.id) continue;
          EXPECT_FLOAT_EQ(choice.logprob, token.logprob);
          EXPECT_EQ(choice.text, token.text);
        }
        if (is_greedy) EXPECT_EQ(token.alternatives.front().id, token.id);
        before += token.text;
      }
      EXPECT_EQ(before, c.text);
    }
  }
  // Control tokens are never offered, however many alternatives are asked for.
  const auto tokenizer = load_sentencepiece(tiny_model_dir() + "/tokenizer.model");
  const std::vector<int> control{tokenizer->pad_id(), tokenizer->unk_id(), tokenizer->bos_id(), tokenizer->eos_id()};
  p.decoding.alternatives = 50;
  for (const auto& c : generator.run(p).candidates)
    for (const auto& token : c.tokens) {
      ASSERT_EQ(token.alternatives.size(), 50u);
      for (const auto& choice : token.alternatives)
        EXPECT_EQ(std::count(control.begin(), control.end(), choice.id), 0) << "control token " << choice.id;
    }
  p.decoding.alternatives = 0;
  EXPECT_TRUE(generator.run(p).candidates.front().tokens.front().alternatives.empty());
  for (const int bad : {-1, 51}) {
    p.decoding.alternatives = bad;
    EXPECT_EQ(kind_of([&] { generator.run(p); }), ErrorKind::InvalidArgument) << bad;
  }
}

// Proposal guidance mixes two readings of each step, with the proposal (c) and without it (u), as u + w (c - u).
TEST_F(GeneratorTest, ProposalGuidanceMixesTheStepsWithAndWithoutTheProposal) {
  Generator generator(*model_);
  auto p = small_params();
  p.decoding.alternatives = 50;
  // Weight 0 is the reading without the proposal alone: the same tokens as re-noising it completely.
  p.proposal_guidance = 0;
  const auto without = generator.run(p);
  auto ignored = p;
  ignored.proposal_guidance = 1;
  ignored.sigma2 = 1;
  const auto at_sigma2_1 = generator.run(ignored);
  for (std::size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(without.candidates[k].tokens.size(), at_sigma2_1.candidates[k].tokens.size());
    for (std::size_t i = 0; i < without.candidates[k].tokens.size(); ++i) {
      EXPECT_EQ(without.candidates[k].tokens[i].id, at_sigma2_1.candidates[k].tokens[i].id);
      EXPECT_NEAR(without.candidates[k].tokens[i].logprob, at_sigma2_1.candidates[k].tokens[i].logprob, 1e-4);
    }
  }
  p.proposal_guidance = 1;
  const auto with = generator.run(p);
  p.proposal_guidance = 2;
  const auto mixed = generator.run(p);
  // The first step's log-probabilities, for every token among all three runs' 50 likeliest: the mixed ones
  // are 2 c - u up to the normalising constant.
  const auto first_step = [](const GenerateResult& r, std::size_t k) {
    std::map<int, double> logprobs;
    for (const auto& choice : r.candidates[k].tokens.front().alternatives) logprobs[choice.id] = choice.logprob;
    return logprobs;
  };
  for (std::size_t k = 0; k < 3; ++k) {
    const auto c = first_step(with, k), u = first_step(without, k), m = first_step(mixed, k);
    std::vector<double> offsets;
    for (const auto& [id, logprob] : m)
      if (c.count(id) && u.count(id)) offsets.push_back(logprob - (2 * c.at(id) - u.at(id)));
    ASSERT_GE(offsets.size(), 5u) << "too few tokens in common to compare";
    const auto [lo, hi] = std::minmax_element(offsets.begin(), offsets.end());
    EXPECT_LT(*hi - *lo, 1e-3) << "sample " << k;
    EXPECT_NE(c, m) << "guidance changed nothing";
  }
}

// Against the guides reversed, proposal guidance contrasts each proposal with the one the same noise gives under
// every guide's opposite weight: that run's proposal, and at weight 0 that run's very tokens.
TEST_F(GeneratorTest, ContrastWithTheReversedGuidesReadsTheOppositeProposal) {
  Generator generator(*model_);
  auto p = small_params();
  p.guides = {{"sentiment", 5.0f, ""}, {"topic", 3.0f, "science"}};
  p.proposal_guidance = 0;
  p.contrast = PlanContrast::Opposite;
  std::vector<float> diffusion_progress;
  GenerateCallbacks callbacks;
  callbacks.progress = [&](Stage stage, float fraction) {
    if (stage == Stage::Diffusion) diffusion_progress.push_back(fraction);
    return true;
  };
  const auto contrasted = generator.run(p, callbacks);
  EXPECT_TRUE(std::is_sorted(diffusion_progress.begin(), diffusion_progress.end())) << "two samplings, one bar";
  EXPECT_EQ(diffusion_progress.back(), 1.0f);

  auto reversed = p;
  for (auto& guide : reversed.guides) guide.weight = -guide.weight;
  reversed.proposal_guidance = 1;
  reversed.contrast = PlanContrast::Unplanned;
  const auto opposite = generator.run(reversed);
  auto plain = p;
  plain.contrast = PlanContrast::Unplanned;
  const auto unplanned = generator.run(plain);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& c = contrasted.candidates[k];
    EXPECT_EQ(c.proposal, unplanned.candidates[k].proposal) << "the steered proposal is the same";
    ASSERT_EQ(c.opposite_proposal.size(), c.proposal.size());
    for (std::size_t i = 0; i < c.proposal.size(); ++i)
      EXPECT_NEAR(c.opposite_proposal[i], opposite.candidates[k].proposal[i], 1e-5);
    EXPECT_NE(c.opposite_proposal, c.proposal);
    ASSERT_EQ(c.tokens.size(), opposite.candidates[k].tokens.size());
    for (std::size_t i = 0; i < c.tokens.size(); ++i) EXPECT_EQ(c.tokens[i].id, opposite.candidates[k].tokens[i].id);
    EXPECT_TRUE(unplanned.candidates[k].opposite_proposal.empty());
  }

  // No proposal guidance: the contrast changes nothing and samples once.
  const auto expect_written_alike = [](const GenerateResult& contrast, const GenerateResult& reference) {
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(contrast.candidates[k].text, reference.candidates[k].text);
      EXPECT_TRUE(contrast.candidates[k].opposite_proposal.empty());
    }
  };
  auto off = p, plain_off = plain;
  off.proposal_guidance = plain_off.proposal_guidance = 1;
  expect_written_alike(generator.run(off), generator.run(plain_off));

  // Nothing to reverse: the plan contrasted with itself amplifies nothing, so weight 0 writes as weight 1 does,
  // not as weight 0 against no plan does.
  for (auto* q : {&p, &plain, &plain_off}) q->guides.clear();
  const auto published = generator.run(plain_off), unplanned_alone = generator.run(plain);
  expect_written_alike(generator.run(p), published);
  bool unplanned_differs = false;
  for (std::size_t k = 0; k < 3; ++k)
    unplanned_differs |= unplanned_alone.candidates[k].text != published.candidates[k].text;
  EXPECT_TRUE(unplanned_differs) << "weight 0 against no plan writes without the plan";
}

RewriteParams rewrite_of(const GenerateParams& p, const Candidate& c, std::size_t keep, int pick) {
  RewriteParams r;
  r.prefix = p.prefix;
  r.proposal = c.proposal;
  for (std::size_t i = 0; i < keep; ++i) r.kept_tokens.push_back(c.tokens[i].id);
  r.kept_tokens.push_back(pick);
  r.samples = 2;
  r.max_new_tokens = p.max_new_tokens;
  r.sigma2 = p.sigma2;
  r.seed = 7;
  return r;
}

// A rewrite contrasts with the opposite proposal it is given, as its generation did: at weight 0 it writes
// what a rewrite from that opposite proposal alone writes, and its candidates keep it.
TEST_F(GeneratorTest, RewriteContrastsWithTheOppositeProposalGiven) {
  Generator generator(*model_);
  auto p = small_params();
  p.guides = {{"sentiment", 5.0f, ""}};
  p.proposal_guidance = 2;
  p.contrast = PlanContrast::Opposite;
  const auto original = generator.run(p).candidates.front();
  ASSERT_FALSE(original.opposite_proposal.empty());
  auto contrasted = rewrite_of(p, original, 0, original.tokens.at(0).id);
  contrasted.opposite_proposal = original.opposite_proposal;
  contrasted.proposal_guidance = 0;
  auto from_opposite = contrasted;
  from_opposite.proposal = original.opposite_proposal;
  from_opposite.opposite_proposal.clear();
  from_opposite.proposal_guidance = 1;
  const auto a = generator.rewrite(contrasted), b = generator.rewrite(from_opposite);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(a.candidates[k].text, b.candidates[k].text);
    ASSERT_EQ(a.candidates[k].opposite_proposal.size(), original.opposite_proposal.size());
    for (std::size_t i = 0; i < original.opposite_proposal.size(); ++i)
      EXPECT_NEAR(a.candidates[k].opposite_proposal[i], original.opposite_proposal[i], 1e-6);
  }
  contrasted.proposal_guidance = 2;
  EXPECT_NE(generator.rewrite(contrasted).candidates[0].tokens[0].logprob, a.candidates[0].tokens[0].logprob)
      << "weight 2 mixes the two";

  // A generation without guides has no opposite proposal: against the guides reversed, its rewrite amplifies
  // nothing either, where against no plan weight 0 writes without the plan.
  auto alone = from_opposite;
  alone.proposal = original.proposal;
  alone.contrast = PlanContrast::Opposite;
  const auto published = generator.rewrite(alone);
  alone.proposal_guidance = 0;
  const auto alone_at_0 = generator.rewrite(alone);
  alone.contrast = PlanContrast::Unplanned;
  const auto unplanned_at_0 = generator.rewrite(alone);
  for (std::size_t k = 0; k < 2; ++k) {
    ASSERT_EQ(alone_at_0.candidates[k].tokens.size(), published.candidates[k].tokens.size());
    for (std::size_t i = 0; i < published.candidates[k].tokens.size(); ++i)
      EXPECT_EQ(alone_at_0.candidates[k].tokens[i].logprob, published.candidates[k].tokens[i].logprob);
  }
  EXPECT_NE(unplanned_at_0.candidates[0].tokens[0].logprob, published.candidates[0].tokens[0].logprob);
}

// Picking another token: the continuation keeps the tokens before it and the pick, then goes on.
TEST_F(GeneratorTest, RewriteKeepsTheTokensBeforeThePickAndWritesOn) {
  Generator generator(*model_);
  auto p = small_params();
  p.max_new_tokens = 10;
  p.decoding.alternatives = 5;
  const auto original = generator.run(p).candidates.front();
  ASSERT_GE(original.tokens.size(), 3u);
  const auto& third = original.tokens[2];
  const int pick = third.alternatives.front().id != third.id ? third.alternatives.front().id
                                                             : third.alternatives.at(1).id;
  const auto params = rewrite_of(p, original, 2, pick);
  const std::string kept_text = original.tokens[0].text + original.tokens[1].text;
  // With drafts too: every draft keeps the tokens, and the closest one is streamed whole.
  const auto rewritten = [&](int drafts) {
    auto with_drafts = params;
    with_drafts.drafts = drafts;
    std::vector<std::string> streamed(2);
    const auto callbacks = streaming_into(streamed);
    const auto result = generator.rewrite(with_drafts, callbacks);
    EXPECT_EQ(result.status, Status::Ok);
    EXPECT_EQ(result.candidates.size(), 2u);
    for (std::size_t k = 0; k < result.candidates.size(); ++k) {
      const auto& c = result.candidates[k];
      EXPECT_GE(c.tokens.size(), 3u);
      EXPECT_LE(c.tokens.size(), 10u);
      for (std::size_t i = 0; i < 3 && i < c.tokens.size(); ++i) EXPECT_EQ(c.tokens[i].id, params.kept_tokens[i]);
      EXPECT_EQ(c.text.rfind(kept_text, 0), 0u) << c.text;
      EXPECT_EQ(streamed[k], c.text) << "kept tokens stream too";
      for (std::size_t i = 0; i < c.proposal.size(); ++i) EXPECT_NEAR(c.proposal[i], original.proposal[i], 1e-6);
      EXPECT_EQ(c.probe_scores.size(), 3u);
      for (const auto& [probe, scores] : c.plan_scores)  // the same plan, read the same
        for (std::size_t i = 0; i < scores.size(); ++i) EXPECT_NEAR(scores[i], original.plan_scores.at(probe)[i], 1e-5);
      EXPECT_EQ(c.plan_scores.size(), 3u);
    }
    return result;
  };
  const auto result = rewritten(1);
  ASSERT_EQ(result.candidates.size(), 2u);
  rewritten(3);
  EXPECT_EQ(generator.rewrite(params).candidates[0].text, result.candidates[0].text) << "same seed, same text";
}

// The proposal conditions the rewrite: the same kept tokens are more or less likely under another one.
TEST_F(GeneratorTest, RewriteFollowsTheGivenProposal) {
  Generator generator(*model_);
  auto p = small_params();
  p.samples = 2;
  const auto candidates = generator.run(p).candidates;
  ASSERT_GE(candidates[0].tokens.size(), 2u);
  auto params = rewrite_of(p, candidates[0], 1, candidates[0].tokens[1].id);
  params.max_new_tokens = 2;  // nothing left to sample: only the kept tokens' log-probabilities
  params.sigma2 = 0;
  const auto own = generator.rewrite(params).candidates[0];
  params.proposal = candidates[1].proposal;
  const auto other = generator.rewrite(params).candidates[0];
  ASSERT_EQ(own.tokens.size(), 2u);
  ASSERT_EQ(other.tokens.size(), 2u);
  EXPECT_NE(own.tokens[0].logprob, other.tokens[0].logprob);
  EXPECT_EQ(own.text, other.text);
}

TEST_F(GeneratorTest, BadRewritesAreClearErrorsNamingTheField) {
  Generator generator(*model_);
  auto p = small_params();
  const auto original = generator.run(p).candidates.front();
  ASSERT_FALSE(original.tokens.empty());
  const auto field_of = [&](const std::function<void(RewriteParams&)>& edit) {
    auto r = rewrite_of(p, original, 0, original.tokens[0].id);
    edit(r);
    try {
      generator.rewrite(r);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument) << e.what();
      return e.where().field;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(field_of([](auto& r) { r.proposal.pop_back(); }), "proposal");
  EXPECT_EQ(field_of([](auto& r) { std::fill(r.proposal.begin(), r.proposal.end(), 0.0f); }), "proposal");
  EXPECT_EQ(field_of([](auto& r) { r.opposite_proposal.assign(3, 1.0f); }), "opposite_proposal");
  EXPECT_EQ(field_of([](auto& r) { r.opposite_proposal.assign(r.proposal.size(), NAN); }), "opposite_proposal");
  EXPECT_EQ(field_of([](auto& r) { r.kept_tokens.push_back(1 << 20); }), "kept_tokens");
  EXPECT_EQ(field_of([](auto& r) { r.kept_tokens.push_back(-1); }), "kept_tokens");
  EXPECT_EQ(field_of([&](auto& r) { r.kept_tokens.assign(7, original.tokens[0].id); }), "kept_tokens");
  EXPECT_EQ(field_of([](auto& r) { r.samples = 0; }), "samples");
  EXPECT_EQ(field_of([](auto& r) { r.kept_tokens.clear(); }), "accepted") << "no kept tokens: a fresh text";
}

// A copy of the tiny model with one file changed by `edit`.
std::string broken_copy(const std::string& name, const std::function<void(const fs::path&)>& edit) {
  const fs::path dir = test::temp_dir() + "/" + name;
  fs::copy(tiny_model_dir(), dir, fs::copy_options::recursive);
  edit(dir);
  return dir.string();
}

TEST(ModelOpen, MissingCorruptAndIncompatibleModelsAreClearErrors) {
  EXPECT_EQ(kind_of([] { Model::open("/nonexistent/model"); }), ErrorKind::NotFound);
  const auto no_decoder = broken_copy("no-decoder", [](const fs::path& d) { fs::remove(d / "decoder.safetensors"); });
  EXPECT_EQ(kind_of([&] { Model::open(no_decoder); }), ErrorKind::NotFound);
  const auto truncated = broken_copy("truncated", [](const fs::path& d) {
    fs::resize_file(d / "encoder.safetensors", fs::file_size(d / "encoder.safetensors") / 2);
  });
  try {
    Model::open(truncated);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("encoder.safetensors"), std::string::npos) << e.what();
  }
  const auto wrong_shape = broken_copy("wrong-shape", [](const fs::path& d) {
    auto text = read_file_text((d / "config.json").string());
    text.replace(text.find("\"context\": 96"), 13, "\"context\": 64");
    write_file_atomic((d / "config.json").string(), text);
  });
  EXPECT_EQ(kind_of([&] { Model::open(wrong_shape); }), ErrorKind::Incompatible);
  const auto bad_tokenizer = broken_copy("bad-tokenizer", [](const fs::path& d) {
    write_file_atomic((d / "tokenizer.model").string(), "garbage");
  });
  EXPECT_EQ(kind_of([&] { Model::open(bad_tokenizer); }), ErrorKind::Corrupt);
}

TEST(ModelOpen, LoadingCanBeCancelled) {
  int calls = 0;
  EXPECT_EQ(kind_of([&] { Model::open(tiny_model_dir(), Device::Cpu, [&](float) { return ++calls < 3; }); }),
            ErrorKind::Cancelled);
  EXPECT_EQ(calls, 3);
}

TEST(TrainProbe, WritesAProbeTheModelCanUseAndCancelKeepsThePreviousOne) {
  auto model = Model::open(tiny_model_dir());
  LabelledTexts data;
  for (int i = 0; i < 40; ++i) {
    data.texts.push_back("The old sailor walked along the green hills " + std::to_string(i));
    data.labels.push_back("sea");
    data.texts.push_back("Our teacher remembered a long letter after dinner " + std::to_string(i));
    data.labels.push_back("school");
  }
  ProbeTrainParams params;
  params.name = "place";
  params.batch_size = 16;
  const auto path = test::temp_dir() + "/place";
  const auto report = train_probe(model, data, params, path);
  EXPECT_EQ(report.classes, (std::vector<std::string>{"school", "sea"}));
  EXPECT_EQ(report.train_rows + report.heldout_rows, 80u);
  EXPECT_EQ(report.heldout_rows, 16u);  // 20% of each class
  ASSERT_EQ(report.confusion.size(), 2u);
  EXPECT_GE(report.heldout_accuracy, 0.9) << "two fixed sentence templates are easy to separate";
  model.add_probe(path);
  Generator generator(model);
  auto p = small_params();
  p.guides = {{"place", 3.0f, "sea"}};
  EXPECT_EQ(generator.run(p).candidates.front().probe_scores.count("place"), 1u);

  const auto before = read_file_bytes(path + ".json");  // names the weights file
  params.seed = 9;
  EXPECT_EQ(kind_of([&] { train_probe(model, data, params, path, [](float f) { return f < 0.5f; }); }),
            ErrorKind::Cancelled);
  EXPECT_EQ(read_file_bytes(path + ".json"), before);
  EXPECT_NO_THROW(model.add_probe(path)) << "the weights the JSON names are still there";

  LabelledTexts one_class{{"a", "b"}, {"x", "x"}};
  EXPECT_EQ(kind_of([&] { train_probe(model, one_class, params, path); }), ErrorKind::InvalidArgument);
}

// Given held-out rows replace the random split: all the training rows train, exactly those measure.
TEST(TrainProbe, MeasuresOnGivenHeldOutRowsOnly) {
  auto model = Model::open(tiny_model_dir());
  LabelledTexts data, heldout;
  for (int i = 0; i < 20; ++i) {
    data.texts.push_back("The old sailor walked along the green hills " + std::to_string(i));
    data.labels.push_back("sea");
    data.texts.push_back("Our teacher remembered a long letter after dinner " + std::to_string(i));
    data.labels.push_back("school");
  }
  heldout.texts = {"The old sailor walked along the green hills again", "Our teacher remembered a long letter"};
  heldout.labels = {"sea", "school"};
  ProbeTrainParams params;
  params.name = "place";
  const auto path = test::temp_dir() + "/place";
  const auto report = train_probe(model, data, params, path, {}, heldout);
  EXPECT_EQ(report.train_rows, 40u);
  EXPECT_EQ(report.heldout_rows, 2u);
  ASSERT_EQ(report.confusion.size(), 2u);
  EXPECT_EQ(report.confusion[0][0] + report.confusion[0][1], 1) << "one held-out row of each class";
  EXPECT_EQ(report.confusion[1][0] + report.confusion[1][1], 1);

  heldout.labels[1] = "mountain";  // a class the probe never saw
  try {
    train_probe(model, data, params, path, {}, heldout);
    FAIL() << "an unknown held-out label was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("mountain"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dglm
