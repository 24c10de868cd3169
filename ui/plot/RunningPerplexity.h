// SPDX-License-Identifier: GPL-3.0-or-later
// Perplexity of the tokens seen so far, exp(mean -logprob), updated one token at a time.
#pragma once

#include <cmath>

class RunningPerplexity {
 public:
  // Adds one token's natural log-probability and returns the perplexity including it.
  double add(double logprob) {
    negativeLogLikelihood_ += -logprob;
    ++tokens_;
    return value();
  }
  double value() const { return tokens_ == 0 ? 0.0 : std::exp(negativeLogLikelihood_ / tokens_); }
  int tokens() const { return tokens_; }

 private:
  double negativeLogLikelihood_ = 0;
  int tokens_ = 0;
};
