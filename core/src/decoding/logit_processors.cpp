// SPDX-License-Identifier: GPL-3.0-or-later
#include "decoding/logit_processors.h"

#include <limits>
#include <string>

#include "dglm/error.h"

namespace dglm {

Temperature::Temperature(float t) : t_(t) {
  if (!(t > 0)) throw Error(ErrorKind::InvalidArgument, "temperature must be > 0, got " + std::to_string(t));
}

void Temperature::apply(torch::Tensor& logits, const torch::Tensor&) const { logits.div_(t_); }

RepetitionPenalty::RepetitionPenalty(float penalty) : penalty_(penalty) {
  if (!(penalty > 0))
    throw Error(ErrorKind::InvalidArgument, "repetition penalty must be > 0, got " + std::to_string(penalty));
}

void RepetitionPenalty::apply(torch::Tensor& logits, const torch::Tensor& history) const {
  if (history.numel() == 0) return;
  // A token repeated in the history gathers the same original logit each time, so scattering the penalised
  // values back penalises it once, not once per occurrence.
  auto seen = logits.gather(1, history);
  auto penalised = torch::where(seen > 0, seen / penalty_, seen * penalty_);
  logits.scatter_(1, history, penalised);
}

TopP::TopP(float p) : p_(p) {
  if (!(p > 0 && p <= 1)) throw Error(ErrorKind::InvalidArgument, "top-p must be in (0, 1], got " + std::to_string(p));
}

void TopP::apply(torch::Tensor& logits, const torch::Tensor&) const {
  if (p_ >= 1) return;  // keeps everything; skipping avoids dropping a tail lost to rounding of the sum
  auto [sorted, order] = logits.sort(-1, /*descending=*/true);
  auto probabilities = torch::softmax(sorted, -1);
  // A token is dropped when the more likely ones before it already reach p; the first never is.
  auto mass_before = probabilities.cumsum(-1) - probabilities;
  auto drop_sorted = mass_before >= p_;
  auto drop = torch::zeros_like(drop_sorted).scatter_(1, order, drop_sorted);
  logits.masked_fill_(drop, -std::numeric_limits<float>::infinity());
}

LogitChain& LogitChain::add(std::unique_ptr<LogitProcessor> processor) {
  processors_.push_back(std::move(processor));
  return *this;
}

void LogitChain::apply(torch::Tensor& logits, const torch::Tensor& history) const {
  for (const auto& processor : processors_) processor->apply(logits, history);
}

torch::Tensor sample_tokens(const torch::Tensor& logits, at::Generator& generator) {
  auto probabilities = torch::softmax(logits.to(torch::kFloat), -1);
  return torch::multinomial(probabilities, 1, /*replacement=*/false, generator).squeeze(1);
}

}  // namespace dglm
