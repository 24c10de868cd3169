// SPDX-License-Identifier: GPL-3.0-or-later
// Plug-and-play probe guidance: a signed, weighted sum of probe losses on Monte-Carlo samples around x_hat.
#pragma once

#include <vector>

#include "diffusion/sampler.h"
#include "probes/logistic_probe.h"

namespace dglm::diffusion {

struct ProbeTerm {
  const LogisticProbe* probe = nullptr;
  float weight = 0;   // > 0 towards target_class, < 0 away from it
  int target_class = 0;
};

// loss(x_hat, a) = sum_k |weight_k| * -log mean_n q_k(normalise(unstandardise(x_hat + sqrt((1-a)/a) xi_n))), summed
// over the batch, where q_k = p_k(target) for a positive weight and 1 - p_k(target) (any other class) for a
// negative one; mean/std are the latent standardisation statistics [D].
GuidanceLoss probe_guidance(std::vector<ProbeTerm> terms, torch::Tensor latent_mean, torch::Tensor latent_std,
                            int mc_samples, at::Generator generator);

}  // namespace dglm::diffusion
