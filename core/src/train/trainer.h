// SPDX-License-Identifier: GPL-3.0-or-later
// The loop every training stage shares: AdamW with warm-up + cosine learning rate, per-step randomness from
// (seed, step), a CSV log, progress with rate, and resumable checkpoints holding weights, optimizer moments and
// the step in one atomically replaced safetensors file.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dglm/train.h"

namespace dglm::train {

struct NamedModule {
  std::string name;  // prefix of its tensors in the checkpoint
  torch::nn::Module* module;
};

struct StepOutput {
  torch::Tensor loss;  // scalar; the trainer calls backward()
  double items = 0;    // tokens or pairs in this step, for the rate
};

class Trainer {
 public:
  // `trained` are optimised; `kept` (e.g. EMA copies) are only saved and restored with the checkpoint.
  Trainer(const char* stage, const TrainParams& params, std::vector<NamedModule> trained,
          std::vector<NamedModule> kept = {});

  using StepFn = std::function<StepOutput(long step, at::Generator& rng)>;
  // Runs from the checkpoint's step (or 0) towards max_steps; stops early on the budget or the callback, always
  // leaving a checkpoint of the last finished step. after_update runs after each optimizer step.
  TrainResult run(const StepFn& step, const TrainProgressFn& progress, const std::function<void()>& after_update = {});

  torch::Device device() const { return device_; }
  double lr_at(long step) const;

 private:
  void save_checkpoint(long step, double seconds) const;
  // Returns the checkpoint's step and the seconds spent before it; {0, 0} without a checkpoint.
  std::pair<long, double> load_checkpoint();
  void restart_log(long step) const;
  std::string checkpoint_path() const;
  std::string log_path() const;

  const char* stage_;
  TrainParams params_;
  torch::Device device_;
  std::vector<NamedModule> trained_, kept_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
};

// Saves a trained module (moved to the CPU) as output_dir/file, the metrics in its metadata; returns the path.
std::string save_weights(torch::nn::Module& module, const std::string& output_dir, const char* file,
                         const std::map<std::string, double>& metrics);

// A CPU generator for one step, seeded by mixing (seed, step): resuming at any step reproduces its draws.
at::Generator step_generator(std::uint64_t seed, long step);

}  // namespace dglm::train
