// SPDX-License-Identifier: GPL-3.0-or-later
// Perplexity from token log-probabilities; Dist-n and Div from word n-grams; adherence's chance level.
#include <cctype>
#include <cmath>
#include <string>
#include <unordered_set>

#include "dglm/error.h"
#include "dglm/metrics.h"

namespace dglm {
namespace {

void require_logprobs(const std::vector<float>& logprobs) {
  if (logprobs.empty()) throw Error(ErrorKind::InvalidArgument, "perplexity of no tokens is undefined");
  for (std::size_t i = 0; i < logprobs.size(); ++i)
    if (!std::isfinite(logprobs[i]) || logprobs[i] > 0)
      throw Error(ErrorKind::InvalidArgument,
                  "token " + std::to_string(i) + " has log-probability " + std::to_string(logprobs[i]) +
                      " (must be finite and <= 0)");
}

struct NgramCounts {
  std::size_t distinct = 0;
  std::size_t total = 0;
  std::size_t words = 0;
};

// Counts over the set; the unit separator joins words so that no two different n-grams share a key.
NgramCounts count_ngrams(const std::vector<std::string>& texts, int n) {
  if (n < 1) throw Error(ErrorKind::InvalidArgument, "n-gram length must be at least 1");
  std::unordered_set<std::string> seen;
  NgramCounts counts;
  const auto length = static_cast<std::size_t>(n);
  for (const auto& text : texts) {
    const auto words = split_words(text);
    counts.words += words.size();
    for (std::size_t start = 0; start + length <= words.size(); ++start) {
      std::string key = words[start];
      for (std::size_t i = 1; i < length; ++i) key += '\x1f' + words[start + i];
      seen.insert(std::move(key));
      ++counts.total;
    }
  }
  counts.distinct = seen.size();
  return counts;
}

}  // namespace

double perplexity(const std::vector<float>& logprobs) {
  require_logprobs(logprobs);
  double nll = 0;
  for (float logprob : logprobs) nll -= logprob;
  return std::exp(nll / static_cast<double>(logprobs.size()));
}

std::vector<double> running_perplexity(const std::vector<float>& logprobs) {
  require_logprobs(logprobs);
  std::vector<double> series;
  series.reserve(logprobs.size());
  double nll = 0;
  for (std::size_t i = 0; i < logprobs.size(); ++i) {
    nll -= logprobs[i];
    series.push_back(std::exp(nll / static_cast<double>(i + 1)));
  }
  return series;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += ch;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

double distinct_n(const std::vector<std::string>& texts, int n) {
  const auto counts = count_ngrams(texts, n);
  return counts.words == 0 ? 0.0 : static_cast<double>(counts.distinct) / static_cast<double>(counts.words);
}

double diversity(const std::vector<std::string>& texts) {
  double product = 1;
  for (int n = 2; n <= 4; ++n) {
    const auto counts = count_ngrams(texts, n);
    if (counts.total == 0)
      throw Error(ErrorKind::InvalidArgument, "Div needs at least one text of 4 or more words");
    product *= static_cast<double>(counts.distinct) / static_cast<double>(counts.total);
  }
  return product;
}

double chance_adherence(const FeatureMatrix& texts, const FeatureMatrix& proposals,
                        const std::vector<std::size_t>& prompt_of) {
  if (texts.rows != proposals.rows || texts.cols != proposals.cols || prompt_of.size() != texts.rows ||
      texts.values.size() != texts.rows * texts.cols || proposals.values.size() != proposals.rows * proposals.cols)
    throw Error(ErrorKind::InvalidArgument, "texts, proposals and prompts differ in shape");
  double sum = 0;
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < texts.rows; ++i)
    for (std::size_t j = 0; j < proposals.rows; ++j) {
      if (prompt_of[i] == prompt_of[j]) continue;
      const float* text = &texts.values[i * texts.cols];
      const float* proposal = &proposals.values[j * proposals.cols];
      double dot = 0;
      for (std::size_t k = 0; k < texts.cols; ++k) dot += double(text[k]) * proposal[k];
      sum += dot;
      ++pairs;
    }
  if (pairs == 0) throw Error(ErrorKind::InvalidArgument, "adherence's chance level needs texts of two prompts");
  return sum / static_cast<double>(pairs);
}

}  // namespace dglm
