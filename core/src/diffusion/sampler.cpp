// SPDX-License-Identifier: GPL-3.0-or-later
#include "diffusion/sampler.h"

#include <cmath>
#include <string>
#include <utility>

#include <torch/csrc/autograd/autograd.h>

#include "diffusion/schedule.h"
#include "dglm/error.h"

namespace dglm::diffusion {
namespace {

struct Prediction {
  torch::Tensor x_hat;
  torch::Tensor eps_hat;  // eps~ once guidance has moved it
};

Prediction predict(const Denoiser& denoiser, const torch::Tensor& z, double a) {
  const auto a_tensor = at::scalar_tensor(a, z.options());
  const auto v = denoiser(z, a);
  return {x_from_v(z, v, a_tensor), eps_from_v(z, v, a_tensor)};
}

// Classifier guidance in eps form: eps~ = eps_hat + sqrt(1-a) dloss/dz, and x_hat re-derived from it, so
// that both sampler updates descend the loss. The gradient flows through the denoiser as well as the loss.
Prediction guided_predict(const Denoiser& denoiser, const GuidanceLoss& guidance, const torch::Tensor& z,
                          double a) {
  at::AutoGradMode enable_grad(true);
  const auto z_leaf = z.detach().requires_grad_(true);
  const auto prediction = predict(denoiser, z_leaf, a);
  const auto loss = guidance(prediction.x_hat, a);
  const auto eps_hat = prediction.eps_hat.detach();
  // A loss that ignores x_hat has no gradient: nothing to steer.
  if (!loss.requires_grad()) return {prediction.x_hat.detach(), eps_hat};
  const auto grad = torch::autograd::grad({loss}, {z_leaf})[0];
  const auto eps_tilde = eps_hat + std::sqrt(1 - a) * grad;
  return {(z - std::sqrt(1 - a) * eps_tilde) / std::sqrt(a), eps_tilde};
}

// Mean of the posterior q(z_s | z_t, x_hat) of the variance-preserving process.
torch::Tensor posterior_mean(const torch::Tensor& z_t, const torch::Tensor& x_hat, double a_t, double a_s) {
  const double alpha_ts = a_t / a_s;
  const double beta = 1 - alpha_ts;
  return (std::sqrt(a_s) * beta / (1 - a_t)) * x_hat + (std::sqrt(alpha_ts) * (1 - a_s) / (1 - a_t)) * z_t;
}

}  // namespace

Denoiser cfg_denoiser(Denoiser conditional, Denoiser unconditional, double w) {
  if (w == 1) return conditional;
  if (w == 0) return unconditional;
  return [conditional = std::move(conditional), unconditional = std::move(unconditional), w](
             const torch::Tensor& z, double a) { return w * conditional(z, a) + (1 - w) * unconditional(z, a); };
}

std::vector<double> time_grid(int steps) {
  if (steps < 1)
    throw Error(ErrorKind::InvalidArgument, "sampling needs at least 1 step, got " + std::to_string(steps));
  std::vector<double> grid(steps + 1);
  for (int i = 0; i <= steps; ++i) grid[i] = 1.0 - static_cast<double>(i) / steps;
  return grid;
}

double ddpm_variance(double a_t, double a_s, double interpolation) {
  const double beta = 1 - a_t / a_s;
  const double posterior = beta * (1 - a_s) / (1 - a_t);
  return std::exp((1 - interpolation) * std::log(posterior) + interpolation * std::log(beta));
}

torch::Tensor sample(const Denoiser& denoiser, int64_t batch, int64_t dim, const SamplerParams& params,
                     const GuidanceLoss& guidance, at::Generator& generator,
                     const std::function<bool(int step, int steps)>& on_step) {
  const auto grid = time_grid(params.steps);
  // Unguided sampling never needs a graph; guided sampling enables autograd locally for its gradient.
  at::NoGradGuard no_grad;
  const auto options = at::TensorOptions().dtype(at::kFloat).device(generator.device());
  auto z = at::randn({batch, dim}, generator, options);
  Prediction prediction;
  for (int step = 0; step < params.steps; ++step) {
    if (on_step && !on_step(step, params.steps)) return {};
    const double a_t = alpha_bar(grid[step]);
    const double a_s = alpha_bar(grid[step + 1]);
    prediction = guidance ? guided_predict(denoiser, guidance, z, a_t) : predict(denoiser, z, a_t);
    if (step + 1 == params.steps) break;  // s = 0: x_hat is the sample, no noise added
    if (params.kind == Sampler::Ddim) {
      z = std::sqrt(a_s) * prediction.x_hat + std::sqrt(1 - a_s) * prediction.eps_hat;
    } else {
      const double stddev = std::sqrt(ddpm_variance(a_t, a_s, params.variance_interpolation));
      z = posterior_mean(z, prediction.x_hat, a_t, a_s) + stddev * at::randn({batch, dim}, generator, options);
    }
  }
  return prediction.x_hat;
}

}  // namespace dglm::diffusion
