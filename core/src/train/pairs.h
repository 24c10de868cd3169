// SPDX-License-Identifier: GPL-3.0-or-later
// Pair files of make_pairs and the latent statistics JSON, loaded for the joint and diffusion stages.
#pragma once

#include <string>

#include <torch/types.h>

#include "dglm/model.h"

namespace dglm::train {

struct PairFile {
  torch::Tensor prefix_ids;              // [N, max_prefix] int64, 0 past prefix_lengths
  torch::Tensor prefix_lengths;          // [N] int64, >= 1
  torch::Tensor continuation_ids;        // [N, C] int64
  torch::Tensor prefix_embedding;        // [N, D] unit-norm
  torch::Tensor continuation_embedding;  // [N, D] unit-norm
  int bos_id = 0;
  int64_t size() const { return prefix_lengths.size(0); }
};

// Throws Error naming the file when it is not a pair file or does not fit the config's vocabulary and latent size.
PairFile load_pair_file(const std::string& path, const ModelConfig& config);

// The standardisation of every latent: x = (unit - mean) / std.
struct LatentStats {
  torch::Tensor mean, std;  // [D]
  torch::Tensor standardise(const torch::Tensor& unit) const { return (unit - mean) / std; }
};
LatentStats load_latent_stats(const std::string& path, const ModelConfig& config);

}  // namespace dglm::train
