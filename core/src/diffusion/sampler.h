// SPDX-License-Identifier: GPL-3.0-or-later
// Ancestral sampling of latents: DDPM (log-interpolated variance) and DDIM, with optional gradient guidance.
#pragma once

#include <functional>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>  // torch::Tensor is an alias declared here

#include "dglm/generator.h"

namespace dglm::diffusion {

// Predicts v for z [B,D] at noise level a (scalar, the same for the batch). Classifier-free guidance is the
// caller's business (see cfg_denoiser).
using Denoiser = std::function<torch::Tensor(const torch::Tensor& z, double a)>;

// Wraps a conditional network call into v = w v_cond + (1-w) v_uncond. w == 1 calls `conditional` only,
// w == 0 calls `unconditional` only.
Denoiser cfg_denoiser(Denoiser conditional, Denoiser unconditional, double w);

// A differentiable loss of x_hat [B,D] (standardised space) at noise level a, summed over the batch; the
// sampler descends it through the denoiser. Empty: unguided (no autograd at all).
using GuidanceLoss = std::function<torch::Tensor(const torch::Tensor& x_hat, double a)>;

struct SamplerParams {
  Sampler kind = Sampler::Ddpm;
  int steps = 50;
  double variance_interpolation = 0.2;  // DDPM: log-space weight of the larger (beta_t) variance
};

// Returns x_0 [B,D]. on_step(step, steps) is called before each step; returning false stops sampling and the
// function returns an undefined tensor.
torch::Tensor sample(const Denoiser& denoiser, int64_t batch, int64_t dim, const SamplerParams& params,
                     const GuidanceLoss& guidance, at::Generator& generator,
                     const std::function<bool(int step, int steps)>& on_step = {});

// Variance of one DDPM step from signal level a_t to the less noisy a_s > a_t: the log-space interpolation
// between the posterior variance (weight 1 - interpolation) and beta = 1 - a_t/a_s (weight interpolation).
double ddpm_variance(double a_t, double a_s, double interpolation);

// The time grid t_0 = 1 > t_1 > ... > t_steps = 0 the samplers walk.
std::vector<double> time_grid(int steps);

}  // namespace dglm::diffusion
