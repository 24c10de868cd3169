// SPDX-License-Identifier: GPL-3.0-or-later
// The diffusion network on (prefix, continuation) embedding pairs, with classifier-free-guidance dropout and an
// exponential moving average of its weights.
#include <torch/nn/functional/loss.h>

#include "diffusion/schedule.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/train.h"
#include "io/weights.h"
#include "pipeline/model_impl.h"
#include "train/pairs.h"
#include "train/trainer.h"

namespace dglm {
namespace {

struct DiffusionData {
  torch::Tensor x, cond;  // [N, D] standardised continuation and prefix embeddings
  DiffusionData(const train::PairFile& pairs, const train::LatentStats& stats)
      : x(stats.standardise(pairs.continuation_embedding)), cond(stats.standardise(pairs.prefix_embedding)) {}
};

// v-prediction MSE for pairs `index` at t [B], with eps [B, D]; use_null [B] drops the prefix.
torch::Tensor v_loss(nn::DiffusionNet& net, const DiffusionData& data, const torch::Tensor& index,
                     const torch::Tensor& t, const torch::Tensor& eps, const torch::Tensor& use_null,
                     const torch::Device& device) {
  const auto x = data.x.index_select(0, index).to(device);
  const auto a = diffusion::alpha_bar(t).to(device);
  const auto noise = eps.to(device);
  const auto v = net->forward(diffusion::add_noise(x, noise, a), data.cond.index_select(0, index).to(device), a,
                              use_null.to(device));
  return torch::nn::functional::mse_loss(v, diffusion::v_target(x, noise, a));
}

// average <- decay * average + (1 - decay) * current, for every parameter and buffer.
void update_average(torch::nn::Module& average, const torch::nn::Module& current, double decay) {
  torch::NoGradGuard no_grad;
  const auto from = current.named_parameters(true);
  for (auto& p : average.named_parameters(true)) p.value().mul_(decay).add_(from[p.key()], 1 - decay);
  const auto buffers = current.named_buffers(true);
  for (auto& b : average.named_buffers(true)) b.value().copy_(buffers[b.key()]);
}

}  // namespace

TrainResult train_diffusion(const std::string& config_path, const std::string& train_pairs,
                            const std::string& valid_pairs, const std::string& stats_path, const TrainParams& params,
                            const DiffusionTrainOptions& options, const TrainProgressFn& progress) {
  if (!(options.ema_decay >= 0 && options.ema_decay < 1))
    throw Error(ErrorKind::InvalidArgument, "must be in [0, 1)", Location{{}, 0, 0, "ema_decay"});
  if (!(options.null_probability >= 0 && options.null_probability <= 1))
    throw Error(ErrorKind::InvalidArgument, "must be in [0, 1]", Location{{}, 0, 0, "null_probability"});
  const auto config = parse_model_config(read_file_text(config_path), config_path);
  const auto stats = train::load_latent_stats(stats_path, config);
  const DiffusionData train(train::load_pair_file(train_pairs, config), stats);
  const DiffusionData valid(train::load_pair_file(valid_pairs, config), stats);

  torch::manual_seed(params.seed);  // the initial weights
  nn::DiffusionNet net(config.diffusion, config.latent_dim), average(config.diffusion, config.latent_dim);
  if (!options.init_weights.empty()) load_module(*net, options.init_weights);
  update_average(*average, *net, 0);  // the average starts at the initial weights
  // The average is saved and restored with the checkpoint, so that a resumed run averages the same steps.
  train::Trainer trainer("diffusion", params, {{"diffusion", net.ptr().get()}}, {{"ema", average.ptr().get()}});
  const auto device = trainer.device();
  const int64_t batch = params.batch_size, N = train.x.size(0), D = config.latent_dim;

  auto result = trainer.run(
      [&](long, at::Generator& rng) {
        const auto index = torch::randint(N, {batch}, rng, torch::kInt64);
        const auto use_null = torch::rand({batch}, rng) < options.null_probability;
        const auto t = torch::rand({batch}, rng);
        const auto eps = torch::randn({batch, D}, rng);
        return train::StepOutput{v_loss(net, train, index, t, eps, use_null, device), static_cast<double>(batch)};
      },
      progress, [&] { update_average(*average, *net, options.ema_decay); });
  if (!result.finished) return result;

  // The averaged network on held-out pairs, conditional, at noise levels spread evenly over t.
  torch::NoGradGuard no_grad;
  average->eval();
  auto rng = train::step_generator(params.seed, -1);
  const int64_t valid_count = valid.x.size(0);
  double total = 0;
  for (int b = 0; b < params.eval_batches; ++b) {
    const auto index = torch::randint(valid_count, {batch}, rng, torch::kInt64);
    const auto t = (torch::arange(batch, torch::kFloat) + 0.5f) / static_cast<float>(batch);
    total += v_loss(average, valid, index, t, torch::randn({batch, D}, rng), torch::zeros({batch}, torch::kBool),
                    device).item<double>();
  }
  result.metrics = {{"val_loss", total / std::max(1, params.eval_batches)}};
  result.weights_paths = {train::save_weights(*average, params.output_dir, ModelFiles::kDiffusion, result.metrics)};
  return result;
}

}  // namespace dglm
