// SPDX-License-Identifier: GPL-3.0-or-later
// Metrics on hand-computed cases: perplexity, running perplexity, Dist-n, Div, MAUVE.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "dglm/error.h"
#include "dglm/metrics.h"

namespace dglm {
namespace {

TEST(Perplexity, IsExpOfMeanNegativeLogLikelihood) {
  // Probabilities 1/2 and 1/4: exp((ln 2 + ln 4) / 2) = 2^1.5.
  EXPECT_NEAR(perplexity({std::log(0.5f), std::log(0.25f)}), 2.8284271, 1e-5);
  EXPECT_NEAR(perplexity({0.0f, 0.0f, 0.0f}), 1.0, 1e-12);
}

TEST(Perplexity, StaysFiniteForLongConfidentAndUnlikelySequences) {
  // 10,000 tokens at probability e^-20 each: a sum of NLLs of 2e5, still exactly perplexity e^20.
  EXPECT_NEAR(perplexity(std::vector<float>(10000, -20.0f)) / std::exp(20.0), 1.0, 1e-6);
}

TEST(Perplexity, RunningSeriesIsThePerplexityOfEachPrefix) {
  const auto series = running_perplexity({std::log(0.5f), std::log(0.25f), 0.0f});
  ASSERT_EQ(series.size(), 3u);
  EXPECT_NEAR(series[0], 2.0, 1e-6);
  EXPECT_NEAR(series[1], 2.8284271, 1e-5);
  EXPECT_NEAR(series[2], 2.0, 1e-6);  // exp(3 ln 2 / 3)
}

TEST(Perplexity, RejectsNoTokensAndImpossibleLogProbabilities) {
  EXPECT_THROW(perplexity({}), Error);
  EXPECT_THROW(perplexity({0.5f}), Error);
  EXPECT_THROW(running_perplexity({-1.0f, -INFINITY}), Error);
  EXPECT_THROW(perplexity({NAN}), Error);
}

TEST(Words, SplitOnAnyWhitespace) {
  EXPECT_EQ(split_words("  the\tcat\n sat  "), (std::vector<std::string>{"the", "cat", "sat"}));
  EXPECT_TRUE(split_words(" \n").empty());
}

TEST(DistinctN, CountsDistinctNgramsOverTheSetPerWord) {
  // 3-grams: {the cat sat, cat sat on, sat on the, on the mat} + {the cat sat, cat sat down}: 5 distinct, 10 words.
  EXPECT_DOUBLE_EQ(distinct_n({"the cat sat on the mat", "the cat sat down"}, 3), 0.5);
  // 1-grams: the, cat, sat, on, mat = 5 distinct of 6 words.
  EXPECT_DOUBLE_EQ(distinct_n({"the cat sat on the mat"}, 1), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(distinct_n({"", "two"}, 3), 0.0);  // no 3-grams in 1 word
  EXPECT_DOUBLE_EQ(distinct_n({}, 3), 0.0);
  EXPECT_THROW(distinct_n({"a b"}, 0), Error);
}

TEST(Diversity, IsTheProductOfNgramUniquenessForTwoToFour) {
  // "a b a b a": 2-grams ab ba ab ba (2/4), 3-grams aba bab aba (2/3), 4-grams abab baba (2/2).
  EXPECT_NEAR(diversity({"a b a b a"}), 0.5 * (2.0 / 3.0) * 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(diversity({"no word here repeats at all"}), 1.0);
}

TEST(Diversity, PoolsNgramsAcrossTexts) {
  // Twice "a b c d": 2-grams 3/6, 3-grams 2/4, 4-grams 1/2.
  EXPECT_DOUBLE_EQ(diversity({"a b c d", "a b c d"}), 0.125);
  // A 3-word text adds 2-grams and a 3-gram but no 4-gram: 2-grams {ab,bc,cd,xy,yz} 5/5, 3-grams 2/2, 4-grams 1/1.
  EXPECT_DOUBLE_EQ(diversity({"a b c d", "x y z"}), 1.0);
}

TEST(Diversity, NeedsAFourWordText) { EXPECT_THROW(diversity({"too short", "one two three"}), Error); }

// Texts t0, t1 of prompt 0 and t2 of prompt 1: the pairs across prompts are (t0, p2), (t1, p2), (t2, p0),
// (t2, p1); a text's own proposal and its sibling's never count.
TEST(ChanceAdherence, AveragesEachTextAgainstTheProposalsOfOtherPrompts) {
  const FeatureMatrix texts{{1, 0, 0, 1, 0.6f, 0.8f}, 3, 2};
  const FeatureMatrix proposals{{1, 0, 0.8f, 0.6f, 0, 1}, 3, 2};
  // t0.p2 = 0, t1.p2 = 1, t2.p0 = 0.6, t2.p1 = 0.48 + 0.48 = 0.96
  EXPECT_NEAR(chance_adherence(texts, proposals, {0, 0, 1}), (0 + 1 + 0.6 + 0.96) / 4, 1e-6);
  // Every pair but the diagonal when each text has a prompt of its own.
  EXPECT_NEAR(chance_adherence(texts, proposals, {0, 1, 2}), (0.8 + 0 + 0 + 1 + 0.6 + 0.96) / 6, 1e-6);
}

TEST(ChanceAdherence, NeedsTwoPromptsAndMatchingShapes) {
  const FeatureMatrix two{{1, 0, 0, 1}, 2, 2};
  EXPECT_THROW(chance_adherence(two, two, {3, 3}), Error);
  EXPECT_THROW(chance_adherence(two, two, {0}), Error);
  EXPECT_THROW(chance_adherence(two, FeatureMatrix{{1, 0}, 1, 2}, {0, 1}), Error);
}

FeatureMatrix gaussian_cloud(std::size_t rows, std::size_t cols, float centre_on_first_axis, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  FeatureMatrix m{{}, rows, cols};
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) m.values.push_back(noise(rng) + (j == 0 ? centre_on_first_axis : 0.0f));
  return m;
}

TEST(Mauve, OfDisjointHistogramsIsTheAreaUnderTheCurveXToTheFifthRoot) {
  // With disjoint supports the curve is x = (1 - l)^5, y = l^5, whose area is B(6, 5) * 5 = 1/252; the
  // trapezoid rule over 25 points overestimates it a little.
  const double area = mauve_of_histograms({1, 0}, {0, 1});
  EXPECT_GT(area, 1.0 / 252);
  EXPECT_LT(area, 0.01);
  EXPECT_NEAR(mauve_of_histograms({0.25, 0.75}, {0.25, 0.75}), 1.0, 1e-12);
}

TEST(Mauve, OfASetWithItselfIsOne) {
  const auto p = gaussian_cloud(60, 8, 0, 1);
  const auto result = mauve(p, p);
  EXPECT_NEAR(result.mauve, 1.0, 1e-9);
  EXPECT_EQ(result.per_seed.size(), 5u);
  EXPECT_NEAR(result.standard_error, 0.0, 1e-12);
  EXPECT_EQ(result.clusters, 6);  // round(60 / 10)
  EXPECT_GE(result.pca_components, 1);
  EXPECT_LE(result.pca_components, 8);
}

TEST(Mauve, OfWellSeparatedSetsIsNearZero) {
  const auto result = mauve(gaussian_cloud(40, 8, 30, 2), gaussian_cloud(30, 8, -30, 3));
  EXPECT_EQ(result.clusters, 3);  // round(min(40, 30) / 10)
  EXPECT_LT(result.mauve, 0.01);
}

TEST(Mauve, OfTwoSamplesOfOneDistributionIsHighAndAboveSeparatedOnes) {
  const auto same = mauve(gaussian_cloud(200, 6, 0, 4), gaussian_cloud(200, 6, 0, 5));
  const auto shifted = mauve(gaussian_cloud(200, 6, 0, 4), gaussian_cloud(200, 6, 1.5f, 5));
  EXPECT_GT(same.mauve, 0.8);
  EXPECT_LT(shifted.mauve, same.mauve);
  EXPECT_GT(same.standard_error, 0.0) << "different k-means seeds give different histograms";
}

TEST(Mauve, IsDeterministicForGivenSeeds) {
  const auto p = gaussian_cloud(50, 5, 0, 6), q = gaussian_cloud(50, 5, 0.5f, 7);
  EXPECT_EQ(mauve(p, q).per_seed, mauve(p, q).per_seed);
}

TEST(Mauve, RejectsEmptyMismatchedAndNonFiniteFeatures) {
  const auto p = gaussian_cloud(10, 4, 0, 8);
  EXPECT_THROW(mauve(p, FeatureMatrix{}), Error);
  EXPECT_THROW(mauve(p, gaussian_cloud(10, 3, 0, 9)), Error);
  auto broken = p;
  broken.values[3] = NAN;
  EXPECT_THROW(mauve(p, broken), Error);
  EXPECT_THROW(mauve(p, FeatureMatrix{{1, 2, 3}, 2, 2}), Error);
}

}  // namespace
}  // namespace dglm
