// SPDX-License-Identifier: GPL-3.0-or-later
// The re-weighting step of token-level plug-and-play control, separate from the model so that tests can check
// the arithmetic on a hand-made distribution.
#pragma once

#include <torch/types.h>

namespace dglm::eval {

// logits [K, V]; candidates [K, T] token ids; attribute_logprobs [K, T]: sum over guides of
// weight * log p(target | text with that candidate). Returns logits that are -inf outside the candidates and
// logit + attribute_logprob on them, so that softmax gives p(t) * prod p_g^w_g renormalised over the candidates.
torch::Tensor reweight_candidates(const torch::Tensor& logits, const torch::Tensor& candidates,
                                  const torch::Tensor& attribute_logprobs);

}  // namespace dglm::eval
