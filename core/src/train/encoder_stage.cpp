// SPDX-License-Identifier: GPL-3.0-or-later
// Contrastive training of the semantic encoder: adjacent spans of one document should embed nearer to each other
// than to the other spans of the batch; optionally, labelled texts nearer to those that share their label.
#include <torch/nn/functional/loss.h>

#include <cmath>
#include <map>

#include "dglm/csv.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/tokenizer.h"
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

// The rows of a labelled CSV as token spans (cut to the encoder's width, as Model::embed cuts a text) and class ids.
struct LabelledSpans {
  torch::Tensor tokens;                 // [N] int32, all rows one after another
  torch::Tensor starts, lengths, ids;   // [rows] int64
};

LabelledSpans load_labelled_spans(const std::string& path, const Tokenizer& tokenizer, const ModelConfig& config) {
  const auto csv = read_labelled_csv(path, "text", "label");  // at least two classes, or an Error naming the file
  std::map<std::string, int64_t> class_ids;
  for (const auto& [label, count] : csv.class_counts) class_ids.emplace(label, static_cast<int64_t>(class_ids.size()));

  std::vector<int32_t> tokens;
  std::vector<int64_t> starts, lengths, ids;
  for (std::size_t row = 0; row < csv.data.texts.size(); ++row) {
    auto pieces = tokenizer.encode(csv.data.texts[row]);
    if (pieces.empty()) continue;  // nothing to embed
    pieces.resize(std::min<std::size_t>(pieces.size(), static_cast<std::size_t>(config.encoder.max_tokens)));
    starts.push_back(static_cast<int64_t>(tokens.size()));
    lengths.push_back(static_cast<int64_t>(pieces.size()));
    ids.push_back(class_ids.at(csv.data.labels[row]));
    tokens.insert(tokens.end(), pieces.begin(), pieces.end());
  }
  if (ids.empty()) throw Error(ErrorKind::InvalidArgument, "no row has a token to embed", Location{path});
  return {torch::tensor(tokens, torch::kInt32), torch::tensor(starts, torch::kInt64),
          torch::tensor(lengths, torch::kInt64), torch::tensor(ids, torch::kInt64)};
}

std::vector<LabelledSpans> load_all_labelled_spans(const EncoderTrainOptions& options, const ModelConfig& config) {
  std::vector<LabelledSpans> all;
  if (options.labelled_csvs.empty()) return all;
  if (options.tokenizer.empty())
    throw Error(ErrorKind::InvalidArgument, "labelled texts need the tokenizer that made the token files",
                Location{{}, 0, 0, "tokenizer"});
  if (!(options.labelled_weight > 0) || options.labelled_batch < 2)
    throw Error(ErrorKind::InvalidArgument, "supervision needs a weight > 0 and a batch of at least 2 rows",
                Location{{}, 0, 0, "labelled_weight"});
  const auto tokenizer = load_sentencepiece(options.tokenizer);
  if (tokenizer->vocab_size() != config.vocab_size)
    throw Error(ErrorKind::InvalidArgument, "has " + std::to_string(tokenizer->vocab_size()) +
                                                " pieces, the config " + std::to_string(config.vocab_size),
                Location{options.tokenizer});
  for (const auto& path : options.labelled_csvs) all.push_back(load_labelled_spans(path, *tokenizer, config));
  return all;
}

// Supervised contrastive loss (SupCon, "L_out") over a batch of labelled rows drawn uniformly: for each row, the
// mean log-probability of the rows sharing its label among all the other rows of the batch.
torch::Tensor supervised_contrast(nn::SemanticEncoder& encoder, const LabelledSpans& data, int64_t batch,
                                  const torch::Tensor& scale, const torch::Device& device, at::Generator& rng) {
  const auto rows = torch::randint(data.ids.size(0), {batch}, rng, torch::kInt64);
  const auto lengths = data.lengths.index_select(0, rows);
  const auto spans = train::gather_spans(data.tokens, data.starts.index_select(0, rows), lengths,
                                         lengths.max().item<int64_t>());
  const auto embeddings = encoder->forward(spans.ids.to(device), spans.mask.to(device));
  const auto self = torch::eye(batch, torch::TensorOptions(torch::kBool).device(device));
  const auto logits = (scale * torch::matmul(embeddings, embeddings.t())).masked_fill(self, -1e9);
  const auto log_probability = torch::log_softmax(logits, 1);
  const auto labels = data.ids.index_select(0, rows).to(device);
  const auto positives = labels.unsqueeze(0).eq(labels.unsqueeze(1)).logical_and(self.logical_not());
  const auto positive_count = positives.sum(1);
  const auto anchors = positive_count > 0;  // a row alone with its label in this batch has nothing to pull towards
  const auto per_row = -(log_probability * positives).sum(1) / positive_count.clamp_min(1);
  return (per_row * anchors).sum() / anchors.sum().clamp_min(1);
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
  const auto labelled = load_all_labelled_spans(options, config);

  torch::manual_seed(params.seed);  // the initial weights
  nn::SemanticEncoder encoder(config.encoder, config.vocab_size, config.latent_dim);
  // A resume then overrides these. An encoder trained without the bag-of-pieces branch starts it at zero.
  if (!options.init_weights.empty()) load_module(*encoder, options.init_weights, {"bag_of_pieces.weight"});
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
        auto loss = contrast(encoder, pairs, scale(), device).loss;
        for (const auto& data : labelled)
          loss = loss + options.labelled_weight * supervised_contrast(encoder, data, options.labelled_batch, scale(),
                                                                      device, rng);
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
