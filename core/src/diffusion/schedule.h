// SPDX-License-Identifier: GPL-3.0-or-later
// Variance-preserving noise schedule and the v-parameterisation identities.
//   z_t = sqrt(a) x + sqrt(1-a) eps,  v = sqrt(a) eps - sqrt(1-a) x,  a = alpha_bar(t).
#pragma once

#include <torch/types.h>  // torch::Tensor is an alias declared here

namespace dglm::diffusion {

// a(t) = sigmoid(clamp(logit(cos^2(pi t / 2)), -20, 20)) for t in [0, 1].
double alpha_bar(double t);
torch::Tensor alpha_bar(const torch::Tensor& t);

// The decoder's noise-augmentation schedule: sigmoid(logit(cos^2(pi t/2)) + shift), shifted towards low noise.
torch::Tensor alpha_bar_shifted(const torch::Tensor& t, double shift);
inline constexpr double kDecoderNoiseShift = 2.1972245773362196;  // 2 ln 3

// a is broadcast against z/x (shape [B] against [B,D] works).
torch::Tensor add_noise(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a);
torch::Tensor v_target(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a);
torch::Tensor x_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a);
torch::Tensor eps_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a);

}  // namespace dglm::diffusion
