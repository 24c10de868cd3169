// SPDX-License-Identifier: GPL-3.0-or-later
// MAUVE: quantise two feature sets with PCA + k-means, compare the cluster histograms by the area under their
// divergence curve. Follows the reference implementation's recipe (mauve-text: l2 norm, PCA to 90% variance,
// k-means++ with restarts, c = 5, 25 mixture weights); k-means here is our own Lloyd's algorithm.
#include <ATen/ops/from_blob.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/linalg_eigh.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "dglm/error.h"
#include "dglm/metrics.h"

namespace dglm {
namespace {

void require_valid(const FeatureMatrix& m, const char* name) {
  auto fail = [name](const std::string& what) {
    throw Error(ErrorKind::InvalidArgument, std::string("MAUVE features ") + name + ": " + what);
  };
  if (m.rows == 0 || m.cols == 0) fail("empty");
  if (m.values.size() != m.rows * m.cols)
    fail(std::to_string(m.values.size()) + " values for " + std::to_string(m.rows) + " x " + std::to_string(m.cols));
  for (float v : m.values)
    if (!std::isfinite(v)) fail("a value is not finite");
}

// Row-major points [n, d] in double precision.
struct Points {
  std::vector<double> values;
  std::size_t n = 0, d = 0;
  const double* row(std::size_t i) const { return values.data() + i * d; }
};

// Rows of p then q, L2-normalised (zero rows stay zero), centred and projected onto the fewest leading
// principal components that keep `variance_kept` of the variance.
Points project(const FeatureMatrix& p, const FeatureMatrix& q, double variance_kept) {
  const auto n = static_cast<int64_t>(p.rows + q.rows), d = static_cast<int64_t>(p.cols);
  std::vector<float> stacked(p.values);
  stacked.insert(stacked.end(), q.values.begin(), q.values.end());
  auto x = at::from_blob(stacked.data(), {n, d}, at::kFloat).to(at::kDouble);
  x = x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
  x = x - x.mean({0}, /*keepdim=*/true);
  const auto [eigenvalues, eigenvectors] = at::linalg_eigh(x.t().mm(x));  // ascending
  const auto variances = eigenvalues.flip({0}).clamp_min(0);
  const double total = variances.sum().item<double>();
  int64_t kept = 1;
  if (total > 0) {
    const auto cumulative = (variances.cumsum(0) / total).contiguous();
    const double* c = cumulative.data_ptr<double>();
    while (kept < d && c[kept - 1] < variance_kept) ++kept;
  }
  const auto projected = x.mm(eigenvectors.flip({1}).slice(1, 0, kept)).contiguous();
  Points points;
  points.n = static_cast<std::size_t>(n);
  points.d = static_cast<std::size_t>(kept);
  points.values.assign(projected.data_ptr<double>(), projected.data_ptr<double>() + projected.numel());
  return points;
}

double squared_distance(const double* a, const double* b, std::size_t d) {
  double sum = 0;
  for (std::size_t i = 0; i < d; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

struct Clustering {
  std::vector<int> labels;
  double inertia = std::numeric_limits<double>::infinity();
};

// k-means++ seeding: each next centre is drawn with probability proportional to its squared distance to the
// nearest centre so far (uniformly when all points coincide with centres).
std::vector<double> kmeans_plus_plus(const Points& x, int k, std::mt19937_64& rng) {
  std::vector<double> centres;
  std::uniform_int_distribution<std::size_t> any(0, x.n - 1);
  const auto first = x.row(any(rng));
  centres.insert(centres.end(), first, first + x.d);
  std::vector<double> nearest(x.n, std::numeric_limits<double>::infinity());
  for (int c = 1; c < k; ++c) {
    const double* last = centres.data() + static_cast<std::size_t>(c - 1) * x.d;
    for (std::size_t i = 0; i < x.n; ++i) nearest[i] = std::min(nearest[i], squared_distance(x.row(i), last, x.d));
    const double total = std::accumulate(nearest.begin(), nearest.end(), 0.0);
    std::size_t chosen = any(rng);
    if (total > 0) chosen = std::discrete_distribution<std::size_t>(nearest.begin(), nearest.end())(rng);
    centres.insert(centres.end(), x.row(chosen), x.row(chosen) + x.d);
  }
  return centres;
}

// Lloyd's iterations from a k-means++ start; an emptied cluster keeps its previous centre.
Clustering kmeans_once(const Points& x, int k, int max_iterations, std::mt19937_64& rng) {
  auto centres = kmeans_plus_plus(x, k, rng);
  Clustering result;
  result.labels.assign(x.n, -1);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    bool changed = false;
    result.inertia = 0;
    for (std::size_t i = 0; i < x.n; ++i) {
      int best = 0;
      double best_distance = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c) {
        const double dist = squared_distance(x.row(i), centres.data() + static_cast<std::size_t>(c) * x.d, x.d);
        if (dist < best_distance) best_distance = dist, best = c;
      }
      changed |= result.labels[i] != best;
      result.labels[i] = best;
      result.inertia += best_distance;
    }
    if (!changed) break;
    std::vector<double> sums(centres.size(), 0.0);
    std::vector<std::size_t> counts(static_cast<std::size_t>(k), 0);
    for (std::size_t i = 0; i < x.n; ++i) {
      const auto c = static_cast<std::size_t>(result.labels[i]);
      ++counts[c];
      for (std::size_t j = 0; j < x.d; ++j) sums[c * x.d + j] += x.row(i)[j];
    }
    for (std::size_t c = 0; c < counts.size(); ++c)
      if (counts[c] > 0)
        for (std::size_t j = 0; j < x.d; ++j) centres[c * x.d + j] = sums[c * x.d + j] / static_cast<double>(counts[c]);
  }
  return result;
}

// KL(a || b) of histograms; infinite where a has mass and b has none.
double kl_divergence(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] <= 0) continue;
    if (b[i] <= 0) return std::numeric_limits<double>::infinity();
    sum += a[i] * std::log(a[i] / b[i]);
  }
  return sum;
}

std::vector<double> histogram(const std::vector<int>& labels, std::size_t begin, std::size_t end, int clusters) {
  std::vector<double> h(static_cast<std::size_t>(clusters), 0.0);
  for (std::size_t i = begin; i < end; ++i) h[static_cast<std::size_t>(labels[i])] += 1;
  for (auto& v : h) v /= static_cast<double>(end - begin);
  return h;
}

}  // namespace

double mauve_of_histograms(const std::vector<double>& p, const std::vector<double>& q, int lambda_points,
                           double scaling) {
  if (p.size() != q.size() || p.empty()) throw Error(ErrorKind::InvalidArgument, "histograms differ in size or are empty");
  if (lambda_points < 2) throw Error(ErrorKind::InvalidArgument, "the divergence curve needs at least 2 mixture weights");
  // Walking the mixture weight from 1 down to 0 moves along the curve from (0, 1) to (1, 0) with x increasing,
  // so the trapezoid rule needs no sorting (sorting would misplace the end points when the sets are equal).
  std::vector<std::pair<double, double>> curve{{0.0, 1.0}};
  constexpr double kEdge = 1e-6;
  for (int i = lambda_points - 1; i >= 0; --i) {
    const double lambda = kEdge + (1 - 2 * kEdge) * i / (lambda_points - 1);
    std::vector<double> r(p.size());
    for (std::size_t j = 0; j < p.size(); ++j) r[j] = lambda * p[j] + (1 - lambda) * q[j];
    curve.emplace_back(std::exp(-scaling * kl_divergence(q, r)), std::exp(-scaling * kl_divergence(p, r)));
  }
  curve.emplace_back(1.0, 0.0);
  double area = 0;
  for (std::size_t i = 1; i < curve.size(); ++i)
    area += (curve[i].first - curve[i - 1].first) * (curve[i].second + curve[i - 1].second) / 2;
  return area;
}

MauveResult mauve(const FeatureMatrix& p, const FeatureMatrix& q, const MauveParams& params) {
  require_valid(p, "p");
  require_valid(q, "q");
  if (p.cols != q.cols)
    throw Error(ErrorKind::InvalidArgument, "MAUVE features: p has " + std::to_string(p.cols) + " columns, q " +
                                                std::to_string(q.cols));
  if (params.seeds < 1 || params.kmeans_restarts < 1 || params.kmeans_max_iterations < 1 || params.clusters < 0 ||
      !(params.variance_kept > 0 && params.variance_kept <= 1))
    throw Error(ErrorKind::InvalidArgument, "MAUVE parameters out of range");

  const auto points = project(p, q, params.variance_kept);
  MauveResult result;
  result.pca_components = static_cast<int>(points.d);
  result.clusters = params.clusters > 0
                        ? params.clusters
                        : std::max(2, static_cast<int>(std::lround(static_cast<double>(std::min(p.rows, q.rows)) / 10)));
  for (int s = 0; s < params.seeds; ++s) {
    std::mt19937_64 rng(params.first_seed + static_cast<std::uint64_t>(s));
    Clustering best;
    for (int restart = 0; restart < params.kmeans_restarts; ++restart) {
      auto candidate = kmeans_once(points, result.clusters, params.kmeans_max_iterations, rng);
      if (candidate.inertia < best.inertia) best = std::move(candidate);
    }
    result.per_seed.push_back(mauve_of_histograms(histogram(best.labels, 0, p.rows, result.clusters),
                                                  histogram(best.labels, p.rows, points.n, result.clusters),
                                                  params.lambda_points, params.scaling));
  }
  const double n = static_cast<double>(result.per_seed.size());
  result.mauve = std::accumulate(result.per_seed.begin(), result.per_seed.end(), 0.0) / n;
  if (result.per_seed.size() > 1) {
    double squares = 0;
    for (double v : result.per_seed) squares += (v - result.mauve) * (v - result.mauve);
    result.standard_error = std::sqrt(squares / (n - 1)) / std::sqrt(n);
  }
  return result;
}

}  // namespace dglm
