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

// The proposal is re-noised at a = 1 - sigma^2 before the prompt generator sees it; a never drops below this, so
// sigma^2 = 1 means "almost pure noise" rather than a division by zero. Training and inference share it.
inline constexpr double kMinProposalAlphaBar = 1e-4;
inline double proposal_alpha_bar(double sigma2) {
  return sigma2 < 1 - kMinProposalAlphaBar ? 1 - sigma2 : kMinProposalAlphaBar;
}
// The paper's default re-noising, sigma^2 = 0.05.
inline constexpr double kDefaultSigma2 = 0.05;

// a is broadcast against z/x (shape [B] against [B,D] works).
torch::Tensor add_noise(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a);
torch::Tensor v_target(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a);
torch::Tensor x_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a);
torch::Tensor eps_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a);

}  // namespace dglm::diffusion
