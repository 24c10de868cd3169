// SPDX-License-Identifier: GPL-3.0-or-later
// Logistic-regression probes on unit-norm sentence embeddings: training from labelled texts, evaluation, saving.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dglm/model.h"

namespace dglm {

struct ProbeTrainParams {
  std::string name;
  std::string description;
  double l2 = 1e-3;             // L2 penalty on the weights (not the bias)
  bool balance_classes = true;  // weight each class's loss by N / (classes * count)
  double heldout_fraction = 0.2;  // when no held-out rows are given
  int max_iterations = 200;     // L-BFGS iterations
  std::uint64_t seed = 0;
  int batch_size = 64;          // texts embedded per encoder pass
};

struct ProbeReport {
  std::vector<std::string> classes;
  std::size_t train_rows = 0;
  std::size_t heldout_rows = 0;
  double train_accuracy = 0;
  double heldout_accuracy = 0;
  std::vector<std::vector<std::int64_t>> confusion;  // [true class][predicted class], held-out rows
};

struct LabelledTexts {
  std::vector<std::string> texts;
  std::vector<std::string> labels;
};

// Embeds the texts with the model's encoder, fits the probe, evaluates it on held-out rows, and writes
// OUTPUT.safetensors + OUTPUT.json atomically (existing files stay until the new ones are complete). The held-out
// rows are `heldout` when it has any (then all of `data` trains the probe; its labels must all occur in `data`),
// else heldout_fraction of each class of `data`.
// progress: [0, 0.9] embedding, [0.9, 1] fitting; return false to cancel (Error(Cancelled), nothing written).
ProbeReport train_probe(const Model& model, const LabelledTexts& data, const ProbeTrainParams& params,
                        const std::string& output_path_without_extension, const ProgressFn& progress = {},
                        const LabelledTexts& heldout = {});

}  // namespace dglm
