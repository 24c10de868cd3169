// SPDX-License-Identifier: GPL-3.0-or-later
// Composable logit processors (temperature, repetition penalty, top-p) and the sampling step.
#pragma once

#include <memory>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace dglm {

class LogitProcessor {
 public:
  virtual ~LogitProcessor() = default;
  // logits [B,V] float, changed in place; history [B,T] int64: tokens seen so far (prefix + generated).
  virtual void apply(torch::Tensor& logits, const torch::Tensor& history) const = 0;
};

class Temperature : public LogitProcessor {  // logits / t; t must be > 0
 public:
  explicit Temperature(float t);
  void apply(torch::Tensor& logits, const torch::Tensor& history) const override;
 private:
  float t_;
};

// CTRL-style: a seen token's positive logit is divided by the penalty, a negative one multiplied.
class RepetitionPenalty : public LogitProcessor {
 public:
  explicit RepetitionPenalty(float penalty);
  void apply(torch::Tensor& logits, const torch::Tensor& history) const override;
 private:
  float penalty_;
};

// Keeps the smallest set of tokens whose probability reaches p (always at least one); others get -inf.
class TopP : public LogitProcessor {
 public:
  explicit TopP(float p);
  void apply(torch::Tensor& logits, const torch::Tensor& history) const override;
 private:
  float p_;
};

class LogitChain {
 public:
  LogitChain& add(std::unique_ptr<LogitProcessor> processor);
  void apply(torch::Tensor& logits, const torch::Tensor& history) const;
  bool empty() const { return processors_.empty(); }
 private:
  std::vector<std::unique_ptr<LogitProcessor>> processors_;
};

// Draws one token per row from softmax(logits) [B,V] -> [B] int64.
torch::Tensor sample_tokens(const torch::Tensor& logits, at::Generator& generator);

}  // namespace dglm
