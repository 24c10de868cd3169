// SPDX-License-Identifier: GPL-3.0-or-later
// A model directory from the outputs of the training stages.
#include <filesystem>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/train.h"
#include "io/weights.h"
#include "probes/logistic_probe.h"
#include "pipeline/model_impl.h"
#include "train/pairs.h"

namespace dglm {
namespace fs = std::filesystem;

ModelInfo assemble_model(const std::string& output_dir, const AssembleInputs& in) {
  auto config = parse_model_config(read_file_text(in.config), in.config);
  const auto stats = train::load_latent_stats(in.stats, config);
  config.latent_mean.assign(stats.mean.data_ptr<float>(), stats.mean.data_ptr<float>() + stats.mean.numel());
  config.latent_std.assign(stats.std.data_ptr<float>(), stats.std.data_ptr<float>() + stats.std.numel());

  const fs::path dir(output_dir);
  fs::create_directories(dir);
  fs::copy_file(in.tokenizer, dir / config.tokenizer_file, fs::copy_options::overwrite_existing);
  // Loading each part into a network of the config's shapes checks that it fits before anything is trusted.
  Model::Impl networks;
  networks.build_networks(config);
  struct Part {
    torch::nn::Module* network;
    const std::string& source;
    const char* file;
  };
  const Part parts[] = {{networks.encoder.ptr().get(), in.encoder, ModelFiles::kEncoder},
                        {networks.diffusion.ptr().get(), in.diffusion, ModelFiles::kDiffusion},
                        {networks.prompt.ptr().get(), in.prompt, ModelFiles::kPrompt},
                        {networks.decoder.ptr().get(), in.decoder, ModelFiles::kDecoder}};
  for (const auto& part : parts) {
    load_module(*part.network, part.source);
    save_module(*part.network, (dir / part.file).string(), in.half, {{"source", part.source}});
  }
  if (!in.probes_dir.empty()) {
    fs::create_directories(dir / ModelFiles::kProbeDir);
    // Each probe through its loader: it must be whole, and only the weights its JSON names come along.
    for (const auto& entry : fs::directory_iterator(in.probes_dir)) {
      if (entry.path().extension() != ".json") continue;
      const auto stem = entry.path().stem();
      save_probe(load_probe((entry.path().parent_path() / stem).string()), (dir / ModelFiles::kProbeDir / stem).string());
    }
  }
  write_file_atomic((dir / ModelFiles::kConfig).string(), model_config_to_json(config));
  return Model::open(output_dir).info();
}

}  // namespace dglm
