// SPDX-License-Identifier: GPL-3.0-or-later
// `dglm bench`: wall time of DGLM against plain autoregressive sampling and token-level control on one model,
// with the machine's measured matmul throughput as the bound, and a Markdown report of it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dglm/baselines.h"
#include "dglm/generator.h"
#include "dglm/runtime.h"

namespace dglm {

struct BenchParams {
  std::vector<int> new_tokens{16, 32, 64, 128, 256};  // clamped to what the model's context allows
  std::vector<int> samples{1, 4, 8};                  // K
  int repetitions = 3;         // interleaved over the whole matrix; medians reported
  int diffusion_steps = GenerateParams{}.steps;
  std::vector<int> step_counts{10, 20, 50};  // the proposal's cost at each sampler step count
  float guide_weight = 2;      // each guided variant's weight per probe
  int token_level_top_k = 20;
  int probe_rows = 1000;       // labelled texts for the probe-training timing
  std::string prefix = "The committee met on Tuesday to discuss the new budget, and after a long debate";
  std::uint64_t seed = 1;
};

// What one (variant, new tokens, K) cell measured: medians over the repetitions.
struct BenchCell {
  std::string variant;
  int new_tokens = 0;
  int samples = 0;
  double wall_s = 0;
  StageTimes stages;            // each stage's median, first_token_s included
  double tokens_per_sample = 0; // mean tokens actually generated (a sample may stop early at end-of-text)
  double decode_tokens_per_s = 0;
};

// The proposal's cost at one sampler step count (the most guided variant, K in the middle of the matrix).
struct BenchStepsCell {
  int steps = 0;
  double diffusion_s = 0;
  double first_token_s = 0;
};

struct BenchReport {
  std::string model_name;
  std::string model_directory;
  std::string cpu;
  unsigned cores = 0;
  int threads = 0;
  BlasReport blas;
  double matmul_gflops = 0;            // best fp32 torch::mm throughput over a few sizes
  double decoder_flops_per_token = 0;  // 2 x decoder parameters (embeddings tied with the output layer)
  double diffusion_flops_per_step = 0; // 2 x diffusion parameters x spliced positions, per sample
  std::vector<std::string> variants;   // column order
  std::vector<int> new_tokens;         // after clamping, duplicates removed
  std::vector<int> samples;
  std::string clamp_note;              // empty when nothing was clamped
  std::vector<BenchCell> cells;
  std::string steps_variant;  // the variant and K the steps table measured
  int steps_samples = 0;
  std::vector<BenchStepsCell> steps_cells;
  int repetitions = 0;
  int diffusion_steps = 0;
  float guide_weight = 0;
  int token_level_top_k = 0;
  double probe_seconds_per_1k_rows = 0;
  int probe_rows = 0;
  double peak_rss_mib = 0;

  const BenchCell& cell(const std::string& variant, int new_tokens, int samples) const;
  const BenchCell* find(const std::string& variant, int new_tokens, int samples) const;  // null when not measured
};

// Runs the matrix on the model in `model_directory`; `log` gets one line per finished step (may be empty).
BenchReport run_bench(const std::string& model_directory, const BenchParams& params,
                      const std::function<void(const std::string&)>& log = {});

struct BenchProvenance {
  std::string commit;   // of the code measured
  std::string command;  // reproduces every table of the report
  std::string date;
};
std::string bench_markdown(const BenchReport& report, const BenchProvenance& provenance);

}  // namespace dglm
