// SPDX-License-Identifier: GPL-3.0-or-later
// Text-generation metrics of the evaluation: perplexity from token log-probabilities, Dist-n and Div over sets
// of texts, adherence's chance level, and MAUVE between two sets of feature vectors. Plain C++ types only (no
// torch in this header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dglm {

// exp(mean negative log-likelihood) of natural-log token probabilities, accumulated in double.
// Throws Error(InvalidArgument) for an empty list or a non-finite or positive log-probability.
double perplexity(const std::vector<float>& logprobs);

// Perplexity of the first 1, 2, ..., n tokens: the series a live plot draws while tokens stream in.
std::vector<double> running_perplexity(const std::vector<float>& logprobs);

// Words are maximal runs of non-whitespace; n-grams never cross from one text into the next.
std::vector<std::string> split_words(const std::string& text);

// Dist-n of a set of texts: distinct n-grams over the set / number of words in the set (0 for no words).
// The paper's per-prompt Dist-3 is this over one prompt's samples, averaged over prompts.
double distinct_n(const std::vector<std::string>& texts, int n);

// Div: product over n = 2..4 of (distinct n-grams / all n-grams), pooled over the set. In (0, 1]; 1 when no
// n-gram repeats. Throws Error(InvalidArgument) when no text has 4 words (a factor would be 0/0).
double diversity(const std::vector<std::string>& texts);

// A row-major float matrix [rows, cols]: one feature vector per text.
struct FeatureMatrix {
  std::vector<float> values;
  std::size_t rows = 0;
  std::size_t cols = 0;
};

struct MauveParams {
  int seeds = 5;                   // independent k-means runs, averaged
  std::uint64_t first_seed = 25;   // seeds are first_seed, first_seed + 1, ...
  double variance_kept = 0.9;      // PCA keeps the fewest leading components reaching this fraction
  int clusters = 0;                // 0: max(2, round(min(rows of p, rows of q) / 10))
  int kmeans_restarts = 5;         // k-means++ initialisations per seed; the lowest inertia wins
  int kmeans_max_iterations = 500;
  int lambda_points = 25;          // mixture weights on a uniform grid in [1e-6, 1 - 1e-6]
  double scaling = 5;              // c in exp(-c KL)
};

struct MauveResult {
  double mauve = 0;                // mean over seeds, in (0, 1]; 1: the sets are indistinguishable
  double standard_error = 0;       // of the mean over seeds (0 for one seed)
  std::vector<double> per_seed;
  int clusters = 0;
  int pca_components = 0;
};

// MAUVE (Pillutla et al. 2021) of generated features p against reference features q: L2-normalise the rows,
// PCA on both sets pooled, k-means (k-means++ init), histogram each set over the clusters, area under the
// divergence curve (exp(-c KL(q || r)), exp(-c KL(p || r))) with r = l p + (1 - l) q.
// Throws Error(InvalidArgument) for empty sets, mismatched widths or non-finite values.
MauveResult mauve(const FeatureMatrix& p, const FeatureMatrix& q, const MauveParams& params = {});

// Adherence's chance level: the mean dot product (the cosine, for unit rows) of each text's embedding with the
// proposals of the texts written for other prompts. Row i of both matrices belongs to prompt prompt_of[i]. The
// encoder's embeddings all lie in a narrow cone, so a text is close to any proposal; adherence means something
// only above this. Throws Error(InvalidArgument) for mismatched shapes or when all rows share one prompt.
double chance_adherence(const FeatureMatrix& texts, const FeatureMatrix& proposals,
                        const std::vector<std::size_t>& prompt_of);

// The area under the divergence curve of two histograms over the same clusters (exposed for tests).
double mauve_of_histograms(const std::vector<double>& p, const std::vector<double>& q, int lambda_points = 25,
                           double scaling = 5);

}  // namespace dglm
