// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include <torch/types.h>

#include "dglm/error.h"
#include "dglm/probe.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace {

// Held-out rows are drawn per class, so that every class is evaluated even when one is rare.
std::vector<bool> heldout_mask(const std::vector<int64_t>& labels, std::size_t classes, double fraction,
                               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<bool> heldout(labels.size(), false);
  for (std::size_t c = 0; c < classes; ++c) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == static_cast<int64_t>(c)) rows.push_back(i);
    std::shuffle(rows.begin(), rows.end(), rng);
    const auto n = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(rows.size())));
    for (std::size_t i = 0; i < n; ++i) heldout[rows[i]] = true;
  }
  return heldout;
}

// Rows [first, count) held out: the caller's own held-out rows, appended after the training rows.
std::vector<bool> rows_from(std::size_t first, std::size_t count) {
  std::vector<bool> heldout(count, false);
  std::fill(heldout.begin() + static_cast<std::ptrdiff_t>(first), heldout.end(), true);
  return heldout;
}

torch::Tensor rows_where(const torch::Tensor& t, const std::vector<bool>& mask, bool value) {
  std::vector<int64_t> index;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i] == value) index.push_back(static_cast<int64_t>(i));
  return t.index_select(0, torch::tensor(index, torch::kInt64).to(t.device()));
}

}  // namespace

ProbeReport train_probe(const Model& model, const LabelledTexts& data, const ProbeTrainParams& params,
                        const std::string& output_path_without_extension, const ProgressFn& progress,
                        const LabelledTexts& heldout_data) {
  if (data.texts.size() != data.labels.size() || heldout_data.texts.size() != heldout_data.labels.size())
    throw Error(ErrorKind::InvalidArgument, "texts and labels differ in count");
  if (params.name.empty()) throw Error(ErrorKind::InvalidArgument, "a probe needs a name", Location{{}, 0, 0, "name"});
  if (!(params.heldout_fraction >= 0 && params.heldout_fraction < 1))
    throw Error(ErrorKind::InvalidArgument, "must be in [0, 1)", Location{{}, 0, 0, "heldout_fraction"});
  const std::set<std::string> distinct(data.labels.begin(), data.labels.end());
  if (distinct.size() < 2)
    throw Error(ErrorKind::InvalidArgument, "a probe needs at least two classes, the data has " +
                                                std::to_string(distinct.size()), Location{{}, 0, 0, "label"});
  std::vector<std::string> classes(distinct.begin(), distinct.end());
  std::vector<int64_t> labels;
  for (const auto* rows : {&data, &heldout_data})
    for (const auto& label : rows->labels) {
      const auto found = std::lower_bound(classes.begin(), classes.end(), label);
      if (found == classes.end() || *found != label)
        throw Error(ErrorKind::InvalidArgument, "held-out label \"" + label + "\" is not among the training labels",
                    Location{{}, 0, 0, "label"});
      labels.push_back(found - classes.begin());
    }

  auto& impl = *model.impl();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> batches;
  const auto batch = static_cast<std::size_t>(std::max(1, params.batch_size));
  const auto total = static_cast<float>(labels.size());
  std::size_t embedded = 0;
  for (const auto* rows : {&data, &heldout_data})
    for (std::size_t start = 0; start < rows->texts.size(); start += batch) {
      if (progress && !progress(0.9f * static_cast<float>(embedded) / total))
        throw Error(ErrorKind::Cancelled, "probe training cancelled; nothing was written");
      const auto end = std::min(start + batch, rows->texts.size());
      embedded += end - start;
      batches.push_back(impl.embed({rows->texts.begin() + static_cast<std::ptrdiff_t>(start),
                                    rows->texts.begin() + static_cast<std::ptrdiff_t>(end)}, false).to(torch::kCPU));
    }
  if (progress && !progress(0.9f)) throw Error(ErrorKind::Cancelled, "probe training cancelled; nothing was written");

  const auto X = torch::cat(batches, 0);
  const auto y = torch::tensor(labels, torch::kInt64);
  const auto heldout = heldout_data.texts.empty()
                           ? heldout_mask(labels, classes.size(), params.heldout_fraction, params.seed)
                           : rows_from(data.texts.size(), labels.size());
  const auto X_train = rows_where(X, heldout, false), y_train = rows_where(y, heldout, false);
  const auto X_test = rows_where(X, heldout, true), y_test = rows_where(y, heldout, true);

  ProbeFitParams fit;
  fit.l2 = params.l2;
  fit.balance_classes = params.balance_classes;
  fit.max_iterations = params.max_iterations;
  auto probe = fit_logistic_probe(X_train, y_train, classes, fit);
  probe.name = params.name;
  probe.description = params.description;

  ProbeReport report;
  report.classes = classes;
  report.train_rows = static_cast<std::size_t>(X_train.size(0));
  report.heldout_rows = static_cast<std::size_t>(X_test.size(0));
  report.train_accuracy = evaluate_probe(probe, X_train, y_train).accuracy;
  if (report.heldout_rows > 0) {
    const auto evaluation = evaluate_probe(probe, X_test, y_test);
    report.heldout_accuracy = evaluation.accuracy;
    report.confusion = evaluation.confusion;
    probe.heldout_accuracy = evaluation.accuracy;
  }
  if (progress && !progress(1.0f)) throw Error(ErrorKind::Cancelled, "probe training cancelled; nothing was written");
  save_probe(probe, output_path_without_extension);
  return report;
}

}  // namespace dglm
