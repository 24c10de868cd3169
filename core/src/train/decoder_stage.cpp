// SPDX-License-Identifier: GPL-3.0-or-later
// Decoder language-model pre-training.
#include <torch/nn/functional/loss.h>

#include <cmath>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/model.h"
#include "nn/decoder.h"
#include "pipeline/model_impl.h"
#include "train/corpus.h"
#include "train/trainer.h"

namespace dglm {
namespace {

// Windows [B, T] of the stream starting at `starts`, as int64.
torch::Tensor windows(const torch::Tensor& tokens, const torch::Tensor& starts, int64_t length) {
  return tokens.index_select(0, (starts.unsqueeze(1) + torch::arange(length)).reshape(-1))
      .view({starts.size(0), length})
      .to(torch::kInt64);
}

// Mean next-token cross-entropy of windows: input [bos][window[:-1]], as in generation's [bos][prefix] layout.
torch::Tensor lm_loss(nn::Decoder& decoder, const torch::Tensor& window, int bos_id, const torch::Device& device) {
  const auto bos = torch::full({window.size(0), 1}, bos_id, torch::kInt64);
  const auto input = torch::cat({bos, window.slice(1, 0, -1)}, 1).to(device);
  const auto logits = decoder->forward(decoder->embed_tokens(input));
  return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), window.reshape(-1).to(device));
}

}  // namespace

TrainResult train_decoder(const std::string& config_path, const std::string& train_tokens,
                          const std::string& valid_tokens, const TrainParams& params, const TrainProgressFn& progress) {
  const auto config = parse_model_config(read_file_text(config_path), config_path);
  const int64_t context = config.decoder.context;
  const auto train = train::load_token_file_for(train_tokens, config, context);
  const auto valid = train::load_token_file_for(valid_tokens, config, context);

  torch::manual_seed(params.seed);  // the initial weights
  nn::Decoder decoder(config.decoder, config.vocab_size);
  train::Trainer trainer("decoder", params, {{"decoder", decoder.ptr().get()}});
  const auto device = trainer.device();
  const int64_t batch = params.batch_size;

  auto result = trainer.run(
      [&](long, at::Generator& rng) {
        const auto starts = torch::randint(train.tokens.numel() - context + 1, {batch}, rng, torch::kInt64);
        return train::StepOutput{lm_loss(decoder, windows(train.tokens, starts, context), train.bos_id, device),
                                 static_cast<double>(batch * context)};
      },
      progress);
  if (!result.finished) return result;

  // Validation: evenly spaced, non-overlapping windows, the same ones on every run.
  torch::NoGradGuard no_grad;
  const int64_t available = valid.tokens.numel() / context;
  const int64_t count = std::max<int64_t>(1, std::min<int64_t>(available, params.eval_batches * batch));
  const auto starts = torch::arange(count) * (available / count) * context;
  double total = 0;
  for (int64_t first = 0; first < count; first += batch) {
    const auto chunk = starts.slice(0, first, std::min(first + batch, count));
    total += lm_loss(decoder, windows(valid.tokens, chunk, context), valid.bos_id, device).item<double>() *
             static_cast<double>(chunk.size(0));
  }
  const double val_loss = total / static_cast<double>(count);
  result.metrics = {{"val_loss", val_loss}, {"val_perplexity", std::exp(val_loss)}};
  result.weights_paths = {train::save_weights(*decoder, params.output_dir, ModelFiles::kDecoder, result.metrics)};
  return result;
}

}  // namespace dglm
