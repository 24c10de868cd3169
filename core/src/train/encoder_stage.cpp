// SPDX-License-Identifier: GPL-3.0-or-later
// Contrastive training of the semantic encoder: adjacent spans of one document should embed nearer to each other
// than to the other spans of the batch.
#include <torch/nn/functional/loss.h>

#include <cmath>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/train.h"
#include "io/weights.h"
#include "nn/encoder.h"
#include "pipeline/model_impl.h"
#include "train/corpus.h"
#include "train/trainer.h"

namespace dglm {
namespace {

constexpr double kInitialTemperature = 0.05;
constexpr int64_t kShortestSpan = 4;

// A learned InfoNCE temperature, kept as an offset of log(1 / tau) from its start (CLIP's parameterisation): AdamW's
// weight decay then pulls it back towards 0.05 rather than towards tau = 1.
struct LearnedTemperatureImpl : torch::nn::Module {
  LearnedTemperatureImpl() { log_scale_offset = register_parameter("log_scale_offset", torch::zeros({})); }
  // 1 / tau, at most 100 as in CLIP, so that the logits cannot run away.
  torch::Tensor scale() const {
    return (log_scale_offset - std::log(kInitialTemperature)).clamp_max(std::log(100.0)).exp();
  }
  torch::Tensor log_scale_offset;
};
TORCH_MODULE(LearnedTemperature);

// B pairs of adjacent spans: a document drawn in proportion to its length, two neighbouring spans of
// min(half_width, length / 2) tokens in it, and with `crop` each span cut to a random part of half to all of it.
struct SpanPairs {
  train::SpanBatch first, second;
};

SpanPairs draw_span_pairs(const train::TokenFile& file, const torch::Tensor& document_weights, int64_t batch,
                          int64_t half_width, bool crop, at::Generator& rng) {
  const auto documents = torch::multinomial(document_weights, batch, /*replacement=*/true, rng);
  const auto draws = torch::rand({batch, 5}, rng, torch::kDouble);
  const auto lengths = train::document_lengths(file);
  const auto doc = documents.accessor<int64_t, 1>();
  const auto u = draws.accessor<double, 2>();
  const auto doc_start = file.documents.accessor<int64_t, 1>();
  const auto doc_length = lengths.accessor<int64_t, 1>();
  torch::Tensor starts = torch::empty({2, batch}, torch::kInt64), spans = torch::empty({2, batch}, torch::kInt64);
  auto start = starts.accessor<int64_t, 2>(), length = spans.accessor<int64_t, 2>();
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t n = doc_length[doc[i]], span = std::min(half_width, n / 2);
    const int64_t first = doc_start[doc[i]] + train::uniform_index(u[i][0], n - 2 * span + 1);
    for (int side = 0; side < 2; ++side) {
      const int64_t begin = first + side * span;
      const int64_t shortest = crop ? (span + 1) / 2 : span;
      const int64_t kept = shortest + train::uniform_index(u[i][1 + 2 * side], span - shortest + 1);
      start[side][i] = begin + train::uniform_index(u[i][2 + 2 * side], span - kept + 1);
      length[side][i] = kept;
    }
  }
  return {train::gather_spans(file.tokens, starts[0], spans[0], half_width),
          train::gather_spans(file.tokens, starts[1], spans[1], half_width)};
}

struct Contrast {
  torch::Tensor loss;     // symmetric InfoNCE
  torch::Tensor correct;  // [B] bool: the first span's nearest second span is its own neighbour
};

Contrast contrast(nn::SemanticEncoder& encoder, const SpanPairs& pairs, const torch::Tensor& scale,
                  const torch::Device& device) {
  const int64_t batch = pairs.first.ids.size(0);
  // One encoder call for both sides: same padding width, half the overhead.
  const auto embeddings = encoder->forward(torch::cat({pairs.first.ids, pairs.second.ids}).to(device),
                                           torch::cat({pairs.first.mask, pairs.second.mask}).to(device));
  const auto logits = scale * torch::matmul(embeddings.slice(0, 0, batch), embeddings.slice(0, batch).t());
  const auto labels = torch::arange(batch, torch::TensorOptions(torch::kInt64).device(device));
  namespace F = torch::nn::functional;
  return {0.5 * (F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels)),
          logits.argmax(1).eq(labels)};
}

// Documents that hold two spans of kShortestSpan, weighted by length (every window about equally likely).
torch::Tensor document_weights(const train::TokenFile& file, const std::string& path) {
  const auto lengths = train::document_lengths(file);
  const auto weights = lengths.masked_fill(lengths < 2 * kShortestSpan, 0).to(torch::kDouble);
  if (weights.sum().item<double>() == 0)
    throw Error(ErrorKind::InvalidArgument, "no document holds two spans of " + std::to_string(kShortestSpan) +
                                                " tokens", Location{path});
  return weights;
}

}  // namespace

TrainResult train_encoder(const std::string& config_path, const std::string& train_tokens,
                          const std::string& valid_tokens, const TrainParams& params,
                          const EncoderTrainOptions& options, const TrainProgressFn& progress) {
  if (!(options.temperature >= 0))
    throw Error(ErrorKind::InvalidArgument, "must be > 0, or 0 to learn it", Location{{}, 0, 0, "temperature"});
  const auto config = parse_model_config(read_file_text(config_path), config_path);
  const auto train = train::load_token_file_for(train_tokens, config, 2 * kShortestSpan);
  const auto valid = train::load_token_file_for(valid_tokens, config, 2 * kShortestSpan);
  const auto train_weights = document_weights(train, train_tokens);
  const auto valid_weights = document_weights(valid, valid_tokens);
  const int64_t half_width = std::max<int64_t>(kShortestSpan, config.encoder.max_tokens / 2);

  torch::manual_seed(params.seed);  // the initial weights
  nn::SemanticEncoder encoder(config.encoder, config.vocab_size, config.latent_dim);
  if (!options.init_weights.empty()) load_module(*encoder, options.init_weights);  // a resume then overrides it
  LearnedTemperature temperature;
  std::vector<train::NamedModule> trained{{"encoder", encoder.ptr().get()}};
  if (options.temperature == 0) trained.push_back({"temperature", temperature.ptr().get()});
  train::Trainer trainer("encoder", params, trained);
  const auto device = trainer.device();
  auto scale = [&] {
    return options.temperature > 0 ? torch::tensor(1 / options.temperature, torch::TensorOptions().device(device))
                                    : temperature->scale();
  };

  auto result = trainer.run(
      [&](long, at::Generator& rng) {
        const auto pairs = draw_span_pairs(train, train_weights, params.batch_size, half_width, options.crop, rng);
        const auto loss = contrast(encoder, pairs, scale(), device).loss;
        return train::StepOutput{loss, static_cast<double>(params.batch_size)};
      },
      progress);
  if (!result.finished) return result;

  // Held-out retrieval: whole spans (no crop), the same draws on every run.
  torch::NoGradGuard no_grad;
  auto rng = train::step_generator(params.seed, -1);
  double loss = 0, correct = 0;
  for (int b = 0; b < params.eval_batches; ++b) {
    const auto pairs = draw_span_pairs(valid, valid_weights, params.batch_size, half_width, false, rng);
    const auto c = contrast(encoder, pairs, scale(), device);
    loss += c.loss.item<double>();
    correct += c.correct.to(torch::kDouble).mean().item<double>();
  }
  const double batches = std::max(1, params.eval_batches);
  result.metrics = {{"val_loss", loss / batches},
                    {"val_retrieval_top1", correct / batches},
                    {"retrieval_candidates", static_cast<double>(params.batch_size)},
                    {"temperature", 1 / scale().item<double>()}};
  result.weights_paths = {train::save_weights(*encoder, params.output_dir, ModelFiles::kEncoder, result.metrics)};
  return result;
}

}  // namespace dglm
