// SPDX-License-Identifier: GPL-3.0-or-later
#include "diffusion/guidance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "dglm/error.h"

namespace dglm::diffusion {

GuidanceLoss probe_guidance(std::vector<ProbeTerm> terms, torch::Tensor latent_mean, torch::Tensor latent_std,
                            int mc_samples, at::Generator generator) {
  if (mc_samples < 1)
    throw Error(ErrorKind::InvalidArgument,
                "guidance needs at least 1 Monte-Carlo sample, got " + std::to_string(mc_samples));
  terms.erase(std::remove_if(terms.begin(), terms.end(), [](const ProbeTerm& term) { return term.weight == 0; }),
              terms.end());
  for (const auto& term : terms) {
    if (term.probe == nullptr) throw Error(ErrorKind::InvalidArgument, "guidance term without a probe");
    const auto classes = static_cast<int>(term.probe->classes.size());
    if (term.target_class < 0 || term.target_class >= classes)
      throw Error(ErrorKind::InvalidArgument, "probe '" + term.probe->name + "' has no class index " +
                                                  std::to_string(term.target_class));
  }

  return [terms = std::move(terms), latent_mean = std::move(latent_mean), latent_std = std::move(latent_std),
          mc_samples, generator](const torch::Tensor& x_hat, double a) {
    const int64_t batch = x_hat.size(0);
    const int64_t dim = x_hat.size(1);
    // Samples of the denoising posterior around x_hat; every probe sees the same ones.
    // Drawn where the generator lives (the CPU for a CPU generator), then moved next to x_hat.
    const auto xi = at::randn({batch, mc_samples, dim}, generator, x_hat.options().device(generator.device()))
                        .to(x_hat.device());
    const auto x_tilde = x_hat.unsqueeze(1) + std::sqrt((1 - a) / a) * xi;
    const auto embedding = x_tilde * latent_std.to(x_hat.options()) + latent_mean.to(x_hat.options());
    const auto unit = (embedding / embedding.norm(2, -1, true).clamp_min(1e-12)).reshape({batch * mc_samples, dim});
    auto total = at::zeros({}, x_hat.options());
    for (const auto& term : terms) {
      const auto log_probs = term.probe->log_probs(unit);
      // Towards the target: p = p(target). Away from it: p = p(any other class), i.e. 1 - p(target). Both
      // losses are bounded below by 0; descending w * log p(target) instead would push proposals without end,
      // off the data the decoder knows (measured: adherence fell from 0.88 to 0.22).
      const auto log_p = term.weight > 0
                             ? log_probs.select(1, term.target_class)
                             : at::logsumexp(log_probs.index_fill(1, at::tensor({static_cast<int64_t>(term.target_class)},
                                                                                 log_probs.options().dtype(at::kLong)),
                                                                  -std::numeric_limits<double>::infinity()),
                                             1);
      // -log mean_n p, in log space so that tiny probabilities keep their gradient.
      const auto row_loss = std::log(static_cast<double>(mc_samples)) - at::logsumexp(log_p.reshape({batch, mc_samples}), 1);
      total = total + std::abs(term.weight) * row_loss.sum();
    }
    return total;
  };
}

}  // namespace dglm::diffusion
