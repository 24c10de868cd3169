// SPDX-License-Identifier: GPL-3.0-or-later
// Joint training of the prompt generator and the decoder on noise-augmented continuation embeddings.
#include <torch/nn/functional/loss.h>

#include <cmath>

#include "diffusion/schedule.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/train.h"
#include "io/weights.h"
#include "pipeline/generation_run.h"
#include "pipeline/model_impl.h"
#include "probes/logistic_probe.h"
#include "train/corpus.h"
#include "train/pairs.h"
#include "train/trainer.h"

namespace dglm {
namespace {

namespace F = torch::nn::functional;

// A pair file ready for batches of one prefix length: pairs ordered by prefix length, and the standardised
// continuation embeddings.
struct JointData {
  train::PairFile pairs;
  torch::Tensor x;                 // [N, D]
  torch::Tensor by_prefix_length;  // [N] pair indices, shortest prefix first
  torch::Tensor sorted_lengths;    // [N]

  JointData(train::PairFile file, const train::LatentStats& stats) : pairs(std::move(file)) {
    x = stats.standardise(pairs.continuation_embedding);
    std::tie(sorted_lengths, by_prefix_length) =
        pairs.prefix_lengths.sort(c10::optional<bool>(/*stable=*/true), /*dim=*/0);
  }
  // B pairs whose prefixes hold at least m tokens.
  torch::Tensor draw(int64_t m, int64_t batch, at::Generator& rng) const {
    const auto first = torch::searchsorted(sorted_lengths, m).item<int64_t>();
    return by_prefix_length.index_select(0, first + torch::randint(size() - first, {batch}, rng, torch::kInt64));
  }
  int64_t size() const { return pairs.size(); }
  int64_t longest_prefix() const { return sorted_lengths[-1].item<int64_t>(); }
};

struct JointModel {
  nn::PromptGenerator& prompt;
  nn::Decoder& decoder;
  torch::Device device;

  // Next-token logits [B, C, V] for the continuations [B, C] of pairs `index`, their prefixes cut to the last m
  // tokens, written from the standardised plans [B, D] noised to a [B] with eps [B, D].
  std::pair<torch::Tensor, torch::Tensor> predict(const JointData& data, const torch::Tensor& index,
                                                  const torch::Tensor& plans, int64_t m, const torch::Tensor& a,
                                                  const torch::Tensor& eps) const {
    const auto batch = index.size(0);
    const auto prefix_columns = data.pairs.prefix_lengths.index_select(0, index).unsqueeze(1) - m + torch::arange(m);
    const auto prefix = data.pairs.prefix_ids.index_select(0, index).gather(1, prefix_columns);
    const auto context = torch::cat({torch::full({batch, 1}, data.pairs.bos_id, torch::kInt64), prefix}, 1);
    const auto continuation = data.pairs.continuation_ids.index_select(0, index).to(device);
    const auto soft = pipeline::soft_prompts(prompt, plans.to(device), eps.to(device), a.to(device));
    const auto input = pipeline::decoder_input(decoder, context.to(device), soft, continuation.slice(1, 0, -1));
    // The last soft prompt predicts the first continuation token, each continuation token the next.
    return {decoder->forward(input).slice(1, input.size(1) - continuation.size(1)), continuation};
  }
  // Mean next-token cross-entropy of the continuations of pairs `index`, each written from its own proposal.
  torch::Tensor loss(const JointData& data, const torch::Tensor& index, int64_t m, const torch::Tensor& a,
                     const torch::Tensor& eps) const {
    const auto [logits, continuation] = predict(data, index, data.x.index_select(0, index), m, a, eps);
    return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), continuation.reshape(-1));
  }
  // The same per pair [B], from the standardised plans [B, D].
  torch::Tensor pair_losses(const JointData& data, const torch::Tensor& index, const torch::Tensor& plans, int64_t m,
                            const torch::Tensor& a, const torch::Tensor& eps) const {
    const auto [logits, continuation] = predict(data, index, plans, m, a, eps);
    return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), continuation.reshape(-1),
                            F::CrossEntropyFuncOptions().reduction(torch::kNone))
        .view_as(continuation)
        .mean(1);
  }
};

// The pairs' standardised continuation embeddings mirrored across the boundary of the probe at `probe_path`.
torch::Tensor mirrored_plans(const std::string& probe_path, const JointData& data, const train::LatentStats& stats) {
  const auto probe = load_probe(probe_path);
  const auto& unit = data.pairs.continuation_embedding;
  if (probe.weight.size(1) != unit.size(1))
    throw Error(ErrorKind::Incompatible, "the probe reads " + std::to_string(probe.weight.size(1)) +
                                             "-wide embeddings, the pairs hold " + std::to_string(unit.size(1)),
                Location{probe_path + ".json", 0, 0, "dim"});
  try {
    return stats.standardise(probe.mirror(unit));
  } catch (const Error& e) {
    throw Error(e.kind(), e.message(), Location{probe_path + ".json", 0, 0, "classes"});
  }
}

}  // namespace

TrainResult train_joint(const std::string& config_path, const std::string& decoder_weights,
                        const std::string& train_pairs, const std::string& valid_pairs, const std::string& stats_path,
                        const TrainParams& params, const JointTrainOptions& options,
                        const TrainProgressFn& progress) {
  const auto config = parse_model_config(read_file_text(config_path), config_path);
  const auto stats = train::load_latent_stats(stats_path, config);
  const JointData train(train::load_pair_file(train_pairs, config), stats);
  const JointData valid(train::load_pair_file(valid_pairs, config), stats);
  const int64_t C = train.pairs.continuation_ids.size(1);
  // [bos][prefix][P soft prompts][continuation] must fit the learned positions, as generation makes it fit.
  const int64_t room = config.decoder.context - 1 - config.prompt.prompt_tokens - C;
  if (room < 0)
    throw Error(ErrorKind::Incompatible, "continuations of " + std::to_string(C) + " tokens and " +
                                             std::to_string(config.prompt.prompt_tokens) +
                                             " soft prompts do not fit the decoder's context",
                Location{train_pairs, 0, 0, "continuation_ids"});
  const int64_t longest = std::min(room, train.longest_prefix());

  torch::manual_seed(params.seed);  // the prompt generator's initial weights
  nn::PromptGenerator prompt(config.prompt, config.latent_dim, config.decoder.d_model);
  if (!options.prompt_generator_init.empty()) load_module(*prompt, options.prompt_generator_init);
  nn::Decoder decoder(config.decoder, config.vocab_size);
  load_module(*decoder, decoder_weights);
  train::Trainer trainer("joint", params, {{"prompt_generator", prompt.ptr().get()}, {"decoder", decoder.ptr().get()}});
  const JointModel model{prompt, decoder, trainer.device()};
  const int64_t batch = params.batch_size, D = config.latent_dim;
  const auto mirrored = options.mirror_probe.empty() || options.mirror_weight <= 0
                            ? torch::Tensor()
                            : mirrored_plans(options.mirror_probe, train, stats);

  auto result = trainer.run(
      [&](long, at::Generator& rng) {
        const auto m = torch::randint(longest + 1, {1}, rng, torch::kInt64).item<int64_t>();
        const auto index = train.draw(m, batch, rng);
        const auto a = diffusion::alpha_bar_shifted(torch::rand({batch}, rng), diffusion::kDecoderNoiseShift);
        const auto eps = torch::randn({batch, D}, rng);
        const auto items = static_cast<double>(batch * C);
        if (options.wrong_plan_weight <= 0 && !mirrored.defined())
          return train::StepOutput{model.loss(train, index, m, a, eps), items};
        // The same continuations written from other plans should be less likely than from their own: this rewards a
        // decoder that follows the plan, in proportion to how much of the plan the noise leaves.
        const auto own = model.pair_losses(train, index, train.x.index_select(0, index), m, a, eps);
        const auto other_plan_term = [&](const torch::Tensor& other_plans) {
          const auto other = model.pair_losses(train, index, other_plans, m, a, eps);
          return (a.to(own.device()) * torch::softplus(own - other)).mean();
        };
        auto loss = own.mean();
        if (options.wrong_plan_weight > 0)
          loss = loss + options.wrong_plan_weight * other_plan_term(train.x.index_select(0, index.roll(1)));
        if (mirrored.defined())
          loss = loss + options.mirror_weight * other_plan_term(mirrored.index_select(0, index));
        return train::StepOutput{loss, items};
      },
      progress);
  if (!result.finished) return result;

  // The same held-out batches at two noise levels: the gap is what the proposal tells the decoder.
  torch::NoGradGuard no_grad;
  auto perplexity = [&](double alpha_bar) {
    auto rng = train::step_generator(params.seed, -1);
    const int64_t valid_longest = std::min(room, valid.longest_prefix());
    double total = 0;
    for (int b = 0; b < params.eval_batches; ++b) {
      const auto m = torch::randint(valid_longest + 1, {1}, rng, torch::kInt64).item<int64_t>();
      const auto index = valid.draw(m, batch, rng);
      const auto eps = torch::randn({batch, D}, rng);
      total += model.loss(valid, index, m, torch::full({batch}, alpha_bar), eps).item<double>();
    }
    return std::exp(total / std::max(1, params.eval_batches));
  };
  result.metrics = {{"val_perplexity", perplexity(diffusion::proposal_alpha_bar(diffusion::kDefaultSigma2))},
                    {"val_perplexity_unguided", perplexity(diffusion::proposal_alpha_bar(1))}};
  result.weights_paths = {train::save_weights(*prompt, params.output_dir, ModelFiles::kPrompt, result.metrics),
                          train::save_weights(*decoder, params.output_dir, ModelFiles::kDecoder, result.metrics)};
  return result;
}

}  // namespace dglm
