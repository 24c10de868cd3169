// SPDX-License-Identifier: GPL-3.0-or-later
#include "diffusion/schedule.h"

#include <algorithm>
#include <cmath>

namespace dglm::diffusion {
namespace {

constexpr double kHalfPi = 1.5707963267948966;
// Keeps a(t) strictly inside (0, 1), so that sqrt(a), sqrt(1-a) and the log-SNR stay finite at the ends.
constexpr double kLogitLimit = 20;

// logit(cos^2(pi t/2)) = log cos^2 - log sin^2, written so that neither end of [0, 1] loses precision
// (1 - cos^2 would cancel near t = 0; |.| absorbs the sign of cos just past pi/2 in float32). Works on
// doubles and tensors alike.
template <typename T>
T cosine_logit(const T& t) {
  using std::abs, std::cos, std::log, std::sin;
  return 2 * (log(abs(cos(kHalfPi * t))) - log(abs(sin(kHalfPi * t))));
}

// [B] against [B, D, ...]: append singleton axes so that a broadcasts per row.
torch::Tensor per_row(const torch::Tensor& a, const torch::Tensor& like) {
  if (a.dim() == 0 || a.dim() == like.dim()) return a;
  auto shape = a.sizes().vec();
  shape.resize(like.dim(), 1);
  return a.reshape(shape);
}

}  // namespace

double alpha_bar(double t) {
  const double logit = std::clamp(cosine_logit(t), -kLogitLimit, kLogitLimit);
  return 1 / (1 + std::exp(-logit));
}

torch::Tensor alpha_bar(const torch::Tensor& t) {
  return at::sigmoid(cosine_logit(t).clamp(-kLogitLimit, kLogitLimit));
}

torch::Tensor alpha_bar_shifted(const torch::Tensor& t, double shift) {
  return at::sigmoid(cosine_logit(t).clamp(-kLogitLimit, kLogitLimit) + shift);
}

torch::Tensor add_noise(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a) {
  const auto ar = per_row(a, x);
  return ar.sqrt() * x + (1 - ar).sqrt() * eps;
}

torch::Tensor v_target(const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& a) {
  const auto ar = per_row(a, x);
  return ar.sqrt() * eps - (1 - ar).sqrt() * x;
}

torch::Tensor x_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a) {
  const auto ar = per_row(a, z);
  return ar.sqrt() * z - (1 - ar).sqrt() * v;
}

torch::Tensor eps_from_v(const torch::Tensor& z, const torch::Tensor& v, const torch::Tensor& a) {
  const auto ar = per_row(a, z);
  return (1 - ar).sqrt() * z + ar.sqrt() * v;
}

}  // namespace dglm::diffusion
