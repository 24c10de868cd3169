// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>

#include "diffusion/guidance.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"
#include "dglm/error.h"
#include "nn/diffusion_net.h"
#include "probes/logistic_probe.h"

namespace {

namespace diff = dglm::diffusion;
using diff::Denoiser;

// The clamp's ends: sigmoid(+-20).
const double kHighest = 1 / (1 + std::exp(-20.0));
const double kLowest = 1 / (1 + std::exp(20.0));

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

const char* sampler_name(dglm::Sampler kind) { return kind == dglm::Sampler::Ddpm ? "DDPM" : "DDIM"; }

diff::SamplerParams params(dglm::Sampler kind, int steps) {
  diff::SamplerParams p;
  p.kind = kind;
  p.steps = steps;
  return p;
}

// The exact denoiser of a one-point data distribution at x0: eps is whatever takes x0 to z.
Denoiser point_mass_denoiser(const torch::Tensor& x0) {
  return [x0](const torch::Tensor& z, double a) {
    const auto eps = (z - std::sqrt(a) * x0) / std::sqrt(1 - a);
    return std::sqrt(a) * eps - std::sqrt(1 - a) * x0;
  };
}

// For standard normal data E[x | z] = sqrt(a) z and E[eps | z] = sqrt(1-a) z, so the exact v is 0.
Denoiser standard_normal_denoiser() {
  return [](const torch::Tensor& z, double) { return at::zeros_like(z); };
}

TEST(Schedule, EndpointsAreClampedInsideTheUnitInterval) {
  EXPECT_DOUBLE_EQ(diff::alpha_bar(0.0), kHighest);
  EXPECT_DOUBLE_EQ(diff::alpha_bar(1.0), kLowest);
  // Close to the ends the logit exceeds +-20 and the clamp holds a(t) at the limit.
  EXPECT_DOUBLE_EQ(diff::alpha_bar(1e-7), kHighest);
  EXPECT_DOUBLE_EQ(diff::alpha_bar(1 - 1e-7), kLowest);
}

TEST(Schedule, FollowsTheCosineInTheMiddleAndDecreases) {
  EXPECT_NEAR(diff::alpha_bar(0.5), 0.5, 1e-12);
  EXPECT_NEAR(diff::alpha_bar(1.0 / 3), 0.75, 1e-12);  // cos^2(pi/6)
  double previous = diff::alpha_bar(0.0);
  for (int i = 1; i <= 1000; ++i) {
    const double current = diff::alpha_bar(i / 1000.0);
    ASSERT_LE(current, previous) << "t = " << i / 1000.0;
    previous = current;
  }
  EXPECT_LT(diff::alpha_bar(0.01), diff::alpha_bar(0.0));
}

TEST(Schedule, TensorFormMatchesScalarFormIncludingFloatEnds) {
  const auto t = at::linspace(0, 1, 101, at::kFloat);
  const auto a = diff::alpha_bar(t);
  ASSERT_TRUE(a.isfinite().all().item<bool>());
  for (int i = 0; i <= 100; ++i) EXPECT_NEAR(a[i].item<double>(), diff::alpha_bar(i / 100.0), 1e-6) << i;
}

TEST(Schedule, ShiftedScheduleMovesTowardsLowNoise) {
  const auto t = at::tensor({0.25, 0.5, 0.75}, at::kDouble);
  const auto shifted = diff::alpha_bar_shifted(t, diff::kDecoderNoiseShift);
  // logit(cos^2(pi/4)) = 0, so a(0.5) = sigmoid(2 ln 3) = 9/10.
  EXPECT_NEAR(shifted[1].item<double>(), 0.9, 1e-12);
  EXPECT_TRUE((shifted > diff::alpha_bar(t)).all().item<bool>());
}

TEST(Schedule, VParameterisationRecoversSignalAndNoise) {
  torch::manual_seed(1);
  const auto x = torch::randn({5, 7}, at::kDouble);
  const auto eps = torch::randn({5, 7}, at::kDouble);
  const auto a = at::tensor({0.001, 0.2, 0.5, 0.9, 0.999}, at::kDouble);  // [B] against [B, D]
  const auto z = diff::add_noise(x, eps, a);
  const auto v = diff::v_target(x, eps, a);
  EXPECT_LT(max_abs_diff(diff::x_from_v(z, v, a), x), 1e-5);
  EXPECT_LT(max_abs_diff(diff::eps_from_v(z, v, a), eps), 1e-5);
  // Row 3 was noised at its own level.
  EXPECT_LT(max_abs_diff(z[3], std::sqrt(0.9) * x[3] + std::sqrt(0.1) * eps[3]), 1e-12);

  const auto scalar = at::scalar_tensor(0.3, at::kFloat);
  const auto xf = x.to(at::kFloat), ef = eps.to(at::kFloat);
  const auto zf = diff::add_noise(xf, ef, scalar);
  EXPECT_LT(max_abs_diff(diff::x_from_v(zf, diff::v_target(xf, ef, scalar), scalar), xf), 1e-5);
}

TEST(Sampler, TimeGridRunsUniformlyFromOneToZero) {
  const auto grid = diff::time_grid(4);
  ASSERT_EQ(grid.size(), 5u);
  const std::vector<double> expected{1.0, 0.75, 0.5, 0.25, 0.0};
  for (size_t i = 0; i < grid.size(); ++i) EXPECT_DOUBLE_EQ(grid[i], expected[i]);
  EXPECT_THROW(diff::time_grid(0), dglm::Error);
}

TEST(Sampler, DdpmVarianceLiesBetweenPosteriorVarianceAndBeta) {
  const auto grid = diff::time_grid(50);
  for (size_t i = 0; i + 1 < grid.size(); ++i) {
    const double a_t = diff::alpha_bar(grid[i]), a_s = diff::alpha_bar(grid[i + 1]);
    const double beta = 1 - a_t / a_s;
    const double posterior = beta * (1 - a_s) / (1 - a_t);
    const double variance = diff::ddpm_variance(a_t, a_s, 0.2);
    EXPECT_GE(variance, posterior * (1 - 1e-12)) << i;
    EXPECT_LE(variance, beta * (1 + 1e-12)) << i;
    EXPECT_NEAR(diff::ddpm_variance(a_t, a_s, 0.0), posterior, 1e-12 * beta);
    EXPECT_NEAR(diff::ddpm_variance(a_t, a_s, 1.0), beta, 1e-12 * beta);
    EXPECT_NEAR(variance, std::pow(posterior, 0.8) * std::pow(beta, 0.2), 1e-9 * beta);
  }
}

struct CountingDenoiser {
  int calls = 0;
  double scale;
  Denoiser fn() {
    return [this](const torch::Tensor& z, double) {
      ++calls;
      return scale * z;
    };
  }
};

TEST(Sampler, ClassifierFreeGuidanceCallsOnlyWhatItNeeds) {
  const auto z = torch::randn({3, 4});
  for (const double w : {1.0, 0.0, 2.5}) {
    CountingDenoiser conditional{0, 2.0}, unconditional{0, -1.0};
    const auto v = diff::cfg_denoiser(conditional.fn(), unconditional.fn(), w)(z, 0.5);
    EXPECT_EQ(conditional.calls, w == 0 ? 0 : 1) << "w = " << w;
    EXPECT_EQ(unconditional.calls, w == 1 ? 0 : 1) << "w = " << w;
    // Float rounding grows with |z| and the mixing weights, so compare with a relative tolerance.
    EXPECT_TRUE(torch::allclose(v, (w * 2.0 + (1 - w) * -1.0) * z, 1e-5, 1e-6)) << "w = " << w;
  }
}

TEST(Sampler, OneDdimStepReturnsTheFirstPrediction) {
  torch::Tensor first_z, first_v;
  double first_a = 0;
  const Denoiser denoiser = [&](const torch::Tensor& z, double a) {
    first_z = z.clone();
    first_a = a;
    first_v = 0.5 * z + 1.0;
    return first_v;
  };
  auto generator = seeded(3);
  const auto x = diff::sample(denoiser, 2, 6, params(dglm::Sampler::Ddim, 1), {}, generator);
  EXPECT_DOUBLE_EQ(first_a, diff::alpha_bar(1.0));
  const auto a = at::scalar_tensor(first_a, at::kFloat);
  EXPECT_LT(max_abs_diff(x, diff::x_from_v(first_z, first_v, a)), 1e-6);
}

TEST(Sampler, BothSamplersRecoverAPointMassFromItsExactDenoiser) {
  const auto x0 = at::tensor({1.5f, -0.5f, 0.0f, 2.0f, -1.0f}).unsqueeze(0);
  for (const auto kind : {dglm::Sampler::Ddpm, dglm::Sampler::Ddim}) {
    auto generator = seeded(7);
    const auto x = diff::sample(point_mass_denoiser(x0), 4, 5, params(kind, 20), {}, generator);
    EXPECT_LT(max_abs_diff(x, x0.expand({4, 5})), 1e-4) << sampler_name(kind);
  }
}

TEST(Sampler, DdpmReproducesStandardNormalStatistics) {
  // For N(0, I) data the true reverse step has the posterior mean and variance beta, so with the
  // interpolation fully on beta the chain keeps unit variance; a wrong mean or variance biases the spread.
  auto generator = seeded(11);
  auto p = params(dglm::Sampler::Ddpm, 50);
  p.variance_interpolation = 1.0;
  const auto x = diff::sample(standard_normal_denoiser(), 4000, 4, p, {}, generator);
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(x.std().item<double>(), 1.0, 0.1);
}

TEST(Sampler, SameSeedSameSamplesOtherSeedOtherSamples) {
  const Denoiser denoiser = [](const torch::Tensor& z, double a) { return 0.3 * z + a; };
  for (const auto kind : {dglm::Sampler::Ddpm, dglm::Sampler::Ddim}) {
    auto g1 = seeded(5), g2 = seeded(5), g3 = seeded(6);
    const auto p = params(kind, 10);
    const auto x1 = diff::sample(denoiser, 3, 8, p, {}, g1);
    const auto x2 = diff::sample(denoiser, 3, 8, p, {}, g2);
    const auto x3 = diff::sample(denoiser, 3, 8, p, {}, g3);
    EXPECT_TRUE(torch::equal(x1, x2)) << sampler_name(kind);
    EXPECT_GT(max_abs_diff(x1, x3), 1e-3) << sampler_name(kind);
  }
}

TEST(Sampler, OnStepSeesEveryStepAndCanStopWithinOne) {
  CountingDenoiser denoiser{0, 0.1};
  std::vector<int> seen;
  auto generator = seeded(1);
  const auto finished = diff::sample(denoiser.fn(), 2, 3, params(dglm::Sampler::Ddpm, 6), {}, generator,
                                     [&](int step, int steps) {
                                       EXPECT_EQ(steps, 6);
                                       seen.push_back(step);
                                       return true;
                                     });
  EXPECT_TRUE(finished.defined());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(denoiser.calls, 6);

  denoiser.calls = 0;
  const auto stopped = diff::sample(denoiser.fn(), 2, 3, params(dglm::Sampler::Ddpm, 6), {}, generator,
                                    [](int step, int) { return step < 2; });
  EXPECT_FALSE(stopped.defined());
  EXPECT_EQ(denoiser.calls, 2);
}

TEST(Sampler, OnlyGuidedSamplingRecordsAGraph) {
  bool grad_seen = false, leaf_seen = false;
  const Denoiser denoiser = [&](const torch::Tensor& z, double) {
    grad_seen = grad_seen || at::GradMode::is_enabled();
    leaf_seen = leaf_seen || z.requires_grad();
    return at::zeros_like(z);
  };
  auto generator = seeded(2);
  const auto unguided = diff::sample(denoiser, 2, 3, params(dglm::Sampler::Ddim, 3), {}, generator);
  EXPECT_FALSE(grad_seen);
  EXPECT_FALSE(leaf_seen);
  const diff::GuidanceLoss loss = [](const torch::Tensor& x_hat, double) { return x_hat.pow(2).sum(); };
  const auto guided = diff::sample(denoiser, 2, 3, params(dglm::Sampler::Ddim, 3), loss, generator);
  EXPECT_TRUE(grad_seen);
  EXPECT_TRUE(leaf_seen);
  EXPECT_FALSE(guided.requires_grad());
}

TEST(Sampler, GuidanceThatIgnoresXHatChangesNothing) {
  const Denoiser denoiser = [](const torch::Tensor& z, double) { return 0.2 * z; };
  const diff::GuidanceLoss constant = [](const torch::Tensor&, double) { return at::ones({}); };
  auto g_plain = seeded(8), g_guided = seeded(8);
  const auto plain = diff::sample(denoiser, 4, 3, params(dglm::Sampler::Ddpm, 5), {}, g_plain);
  const auto guided = diff::sample(denoiser, 4, 3, params(dglm::Sampler::Ddpm, 5), constant, g_guided);
  EXPECT_LT(max_abs_diff(plain, guided), 1e-6);
}

TEST(Sampler, GuidanceDescendsTheLossInBothSamplers) {
  // Data N(0, I) tilted by exp(2 x_0) is N(2 e_0, I), and for Gaussian data the guidance gradient is the exact
  // tilted score: the loss -2 x_0 must shift the first coordinate by 2 and leave the others alone.
  for (const auto kind : {dglm::Sampler::Ddpm, dglm::Sampler::Ddim}) {
    const auto p = params(kind, 20);
    auto g_plain = seeded(4), g_guided = seeded(4);
    const auto plain = diff::sample(standard_normal_denoiser(), 512, 3, p, {}, g_plain);
    const diff::GuidanceLoss pull_up = [](const torch::Tensor& x_hat, double) {
      return -2.0 * x_hat.select(1, 0).sum();
    };
    const auto guided = diff::sample(standard_normal_denoiser(), 512, 3, p, pull_up, g_guided);
    const auto shift = guided.mean(0) - plain.mean(0);
    EXPECT_NEAR(shift[0].item<double>(), 2.0, 0.02) << sampler_name(kind);
    EXPECT_LT(shift.slice(0, 1).abs().max().item<double>(), 1e-3) << sampler_name(kind);
  }
}

// The product test: a trained diffusion network steered by real logistic probes.
class ProbeGuidedSampling : public ::testing::Test {
 protected:
  static constexpr int64_t kDim = 8;
  static constexpr int64_t kProposals = 64;

  struct Trained {
    dglm::nn::DiffusionNet net{nullptr};
    dglm::LogisticProbe cluster;   // classes a (x_0 < 0), b (x_0 > 0)
    dglm::LogisticProbe height;    // classes low (x_1 < 0), high (x_1 > 0)
  };
  static Trained* trained;

  // Two clusters at +-0.9 along x_0 with spread 0.4, standard normal elsewhere: roughly standardised.
  static torch::Tensor toy_latents(int64_t rows) {
    const auto side = torch::randint(0, 2, {rows}).to(at::kFloat) * 2 - 1;
    auto x = torch::randn({rows, kDim});
    x.select(1, 0).mul_(0.4).add_(0.9 * side);
    return x;
  }

  static torch::Tensor unit(const torch::Tensor& x) { return x / x.norm(2, 1, true); }

  static void SetUpTestSuite() {
    torch::manual_seed(0);
    trained = new Trained;
    dglm::DiffusionConfig config;
    config.d_model = 32;
    config.n_layers = 2;
    config.n_heads = 2;
    config.splice_tokens = 4;
    config.splice_dim = 8;
    trained->net = dglm::nn::DiffusionNet(config, kDim);
    torch::optim::Adam adam(trained->net->parameters(), torch::optim::AdamOptions(3e-3));
    constexpr int64_t kBatch = 256;
    const auto use_null = torch::ones({kBatch}, at::kBool);
    const auto no_cond = torch::zeros({kBatch, kDim});
    for (int step = 0; step < 400; ++step) {
      const auto x = toy_latents(kBatch);
      const auto eps = torch::randn_like(x);
      const auto a = diff::alpha_bar(torch::rand({kBatch}));
      const auto prediction = trained->net(diff::add_noise(x, eps, a), no_cond, a, use_null);
      const auto loss = (prediction - diff::v_target(x, eps, a)).pow(2).mean();
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
    trained->net->eval();

    const auto x = toy_latents(2000);
    trained->cluster = dglm::fit_logistic_probe(unit(x), (x.select(1, 0) > 0).to(at::kLong), {"a", "b"}, {});
    trained->height = dglm::fit_logistic_probe(unit(x), (x.select(1, 1) > 0).to(at::kLong), {"low", "high"}, {});
  }
  static void TearDownTestSuite() {
    delete trained;
    trained = nullptr;
  }

  // Mean probabilities of each probe's class 1 (b, high) over proposals sampled with the given guidance weights.
  static std::vector<double> guided_means(float cluster_weight, float height_weight) {
    const Denoiser denoiser = [net = trained->net.ptr()](const torch::Tensor& z, double a) {
      const auto rows = z.size(0);
      return net->forward(z, torch::zeros_like(z), torch::full({rows}, a), torch::ones({rows}, at::kBool));
    };
    auto generator = seeded(42);
    const std::vector<diff::ProbeTerm> terms{{&trained->cluster, cluster_weight, 1},
                                             {&trained->height, height_weight, 1}};
    const auto guidance = diff::probe_guidance(terms, torch::zeros({kDim}), torch::ones({kDim}), 8, generator);
    const bool guided = cluster_weight != 0 || height_weight != 0;
    const auto x = diff::sample(denoiser, kProposals, kDim, params(dglm::Sampler::Ddpm, 25),
                                guided ? guidance : diff::GuidanceLoss{}, generator);
    at::NoGradGuard no_grad;
    return {trained->cluster.log_probs(unit(x)).exp().select(1, 1).mean().item<double>(),
            trained->height.log_probs(unit(x)).exp().select(1, 1).mean().item<double>()};
  }
};

ProbeGuidedSampling::Trained* ProbeGuidedSampling::trained = nullptr;

TEST_F(ProbeGuidedSampling, UnguidedProposalsCoverBothClusters) {
  const auto p_b = guided_means(0, 0)[0];
  EXPECT_GT(p_b, 0.25);
  EXPECT_LT(p_b, 0.75);
}

TEST_F(ProbeGuidedSampling, LargerWeightsMoveProposalsFurtherTowardsTheTarget) {
  const double none = guided_means(0, 0)[0];
  const double some = guided_means(0.5, 0)[0];
  const double strong = guided_means(2, 0)[0];
  EXPECT_GT(some, none + 0.1);
  EXPECT_GT(strong, some + 0.1);
  EXPECT_GT(strong, 0.9);
}

TEST_F(ProbeGuidedSampling, NegativeWeightMovesProposalsAway) {
  EXPECT_LT(guided_means(-1, 0)[0], guided_means(0, 0)[0] - 0.1);
}

TEST_F(ProbeGuidedSampling, TwoProbesCompose) {
  const auto none = guided_means(0, 0);
  const auto first_only = guided_means(1, 0);
  const auto both = guided_means(1, 1);
  EXPECT_GT(both[0], none[0] + 0.1);
  EXPECT_GT(both[1], none[1] + 0.1);
  EXPECT_GT(both[1], first_only[1] + 0.1);
}

}  // namespace
