// SPDX-License-Identifier: GPL-3.0-or-later
// Multinomial logistic regression on unit-norm embeddings (binary probes are the two-class case).
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>  // torch::Tensor is an alias declared here

namespace dglm {

struct LogisticProbe {
  std::string name;
  std::string description;
  std::vector<std::string> classes;
  torch::Tensor weight;  // [C, D]
  torch::Tensor bias;    // [C]
  double heldout_accuracy = -1;

  // embeddings [N,D] -> log-probabilities [N,C]; differentiable.
  torch::Tensor log_probs(const torch::Tensor& embeddings) const;
  // Throws Error(NotFound) listing the classes.
  int class_index(const std::string& name) const;
  // Two-class probes: embeddings [N,D] mirrored across the decision boundary, so that the probe reads each with its
  // log-odds negated and every direction the probe does not weigh is kept. Throws Error(InvalidArgument) for other
  // probes.
  torch::Tensor mirror(const torch::Tensor& embeddings) const;
};

struct ProbeFitParams {
  double l2 = 1e-3;
  bool balance_classes = true;
  int max_iterations = 200;
};

// X [N,D] float, y [N] int64 in [0, classes.size()). Full-batch L-BFGS on the mean (class-weighted)
// cross-entropy + l2/2 |W|^2.
LogisticProbe fit_logistic_probe(const torch::Tensor& X, const torch::Tensor& y,
                                 std::vector<std::string> classes, const ProbeFitParams& params);

struct ProbeEvaluation {
  double accuracy = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
};
ProbeEvaluation evaluate_probe(const LogisticProbe& probe, const torch::Tensor& X, const torch::Tensor& y);

// PATH.json (name, description, classes, dim, heldout_accuracy, weights) + the weights file it names
// (PATH.TAG.safetensors: weight, bias). Replacing a saved probe is atomic: the JSON is written last.
void save_probe(const LogisticProbe& probe, const std::string& path_without_extension);
// Throws Error naming the file and field for anything malformed or inconsistent.
LogisticProbe load_probe(const std::string& path_without_extension);

}  // namespace dglm
