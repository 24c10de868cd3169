// SPDX-License-Identifier: GPL-3.0-or-later
// Training a DGLM model one stage at a time. Every stage writes a checkpoint (weights, optimizer state and its
// position in one safetensors file, replaced atomically) and resumes from it, so long CPU runs can be done in
// pieces and survive being killed. Randomness is derived from (seed, step): a resumed run computes exactly
// what an uninterrupted one would have.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dglm/model.h"
#include "dglm/runtime.h"

namespace dglm {

struct TrainParams {
  std::string output_dir;               // checkpoint.safetensors, log.csv and the stage's weights
  Device device = Device::Cpu;
  long max_steps = 1000;
  double budget_seconds = 0;            // > 0: stop (with a checkpoint) after this much wall-clock time
  int batch_size = 16;
  double lr = 1e-3;                     // peak, after a linear warm-up
  double min_lr = 1e-4;                 // where the cosine decay ends, at max_steps
  long warmup_steps = 100;
  double weight_decay = 0.1;            // AdamW, betas (0.9, 0.95)
  long checkpoint_every_steps = 500;
  double checkpoint_every_seconds = 600;
  long log_every_steps = 10;            // rows of log.csv
  int eval_batches = 16;                // validation batches at the end of the run
  std::uint64_t seed = 0;
  bool resume = true;                   // continue from output_dir/checkpoint.safetensors when it exists
};

struct TrainProgress {
  const char* stage = "";
  long step = 0;                        // steps done so far, including those before a resume
  long max_steps = 0;
  double loss = 0;
  double lr = 0;
  double items_per_second = 0;          // tokens/s for the decoder, pairs/s for the other stages
  double elapsed_seconds = 0;           // this run
};
// Called after every step; returning false stops the run after writing a checkpoint.
using TrainProgressFn = std::function<bool(const TrainProgress&)>;

struct TrainResult {
  long steps_done = 0;
  long resumed_from = 0;                // the checkpoint's step, 0 for a fresh start
  bool finished = false;                // max_steps reached and the weights written
  double seconds = 0;                   // all runs of this stage together
  std::map<std::string, double> metrics;  // e.g. val_loss, val_perplexity
  std::vector<std::string> weights_paths;  // the stage's weight files, set when finished
};

// A corpus text file (one paragraph per line, documents separated by blank lines) -> a token file
// (safetensors: `tokens` i32 with EOS after each document, `documents` i64 start offsets).
struct TokenizedCorpus {
  std::size_t documents = 0;
  std::size_t tokens = 0;
};
TokenizedCorpus tokenize_corpus(const std::string& tokenizer_model, const std::string& text_path,
                                const std::string& output_path);

// Language-model pre-training of the decoder on random context-length windows of a token file: input
// [bos][window without its last token], every position predicts the next token. config_path is a model
// config.json (architecture and vocabulary size). Writes decoder.safetensors; metrics val_loss and
// val_perplexity over eval_batches windows of valid_tokens.
TrainResult train_decoder(const std::string& config_path, const std::string& train_tokens,
                          const std::string& valid_tokens, const TrainParams& params,
                          const TrainProgressFn& progress = {});

// Contrastive training of the semantic encoder (InfoNCE with in-batch negatives, symmetric) on pairs of
// adjacent spans of one document, each about max_tokens / 2 long. Writes encoder.safetensors; metrics
// val_retrieval_top1 (share of held-out spans whose neighbour is the nearest of retrieval_candidates spans),
// val_loss and temperature, over eval_batches batches of valid_tokens.
struct EncoderTrainOptions {
  double temperature = 0;  // > 0: fixed; 0: learned, starting at 0.05
  bool crop = true;        // a random crop (half to all) of each span: a second kind of view, for free
  // Non-empty: start from this encoder.safetensors (fine-tuning; fresh optimizer). A bag-of-pieces branch (config)
  // that the file lacks starts at zero: the branch can be added to an encoder trained without it.
  std::string init_weights;
  // Supervision (optional): CSVs of texts with a `text` and a `label` column, tokenised by `tokenizer`. Every step
  // also embeds `labelled_batch` rows of each and adds labelled_weight x its supervised contrastive loss (Khosla et
  // al. 2020: texts that share a label are each other's positives), so that the labels become strong directions of
  // the embedding. Never pass rows a probe is evaluated on.
  std::vector<std::string> labelled_csvs;
  std::string tokenizer;
  double labelled_weight = 1.0;
  int labelled_batch = 64;
};
TrainResult train_encoder(const std::string& config_path, const std::string& train_tokens,
                          const std::string& valid_tokens, const TrainParams& params,
                          const EncoderTrainOptions& options = {}, const TrainProgressFn& progress = {});

// (prefix, continuation) pairs cut from the documents of a token file, embedded by a trained encoder: every
// document is cut into windows of max_prefix + continuation tokens, each split at a random point (the prefix
// gets min_prefix..max_prefix tokens, the continuation exactly `continuation` tokens; shorter documents give one
// shorter window or none). The file (safetensors) holds prefix_ids [N, max_prefix] (right-padded with 0),
// prefix_lengths [N], continuation_ids [N, continuation] and the unit embeddings prefix_embedding and
// continuation_embedding [N, latent_dim].
struct PairParams {
  int max_prefix_tokens = 64;
  int min_prefix_tokens = 8;
  int continuation_tokens = 32;
  long max_pairs = 0;       // > 0: a random sample of this many windows
  int batch_size = 64;      // texts per encoder call
  std::uint64_t seed = 0;
  Device device = Device::Cpu;
};
struct PairsReport {
  long windows = 0;         // candidate windows in the corpus
  long pairs = 0;           // written
};
// Also writes stats_path (unless empty): {"mean": [...], "std": [...], "pairs": N}, like config.json's
// latent_stats: the per-dimension statistics of the continuation embeddings that standardise every latent.
PairsReport make_pairs(const std::string& config_path, const std::string& encoder_weights,
                       const std::string& tokens_path, const std::string& output_path, const std::string& stats_path,
                       const PairParams& params, const ProgressFn& progress = {});

// Joint training of the prompt generator (fresh, or from prompt_generator_init) and the decoder (from
// decoder_weights) on pair files: the
// standardised continuation embedding is noised at a = alpha_bar_shifted(t, 2 ln 3), t ~ U(0, 1), turned into soft
// prompts, and the decoder reads [bos][prefix][soft prompts][continuation] exactly as in generation. The loss is
// next-token cross-entropy on the continuation only (our choice; the reference also trains on the prefix): the
// pre-trained decoder already models prefixes, and the soft prompts are about the continuation. Every step
// uses one prefix length m ~ U(0, longest) for the whole batch (pairs with shorter prefixes are not drawn; the
// others keep their last m tokens), so that a batch needs no padding. Writes prompt_generator.safetensors and
// decoder.safetensors; metrics val_perplexity of the continuation at the inference noise (sigma^2 = 0.05) and
// val_perplexity_unguided (sigma^2 = 1: the proposal is pure noise).
struct JointTrainOptions {
  // Non-empty: start the prompt generator from this prompt_generator.safetensors (with decoder_weights of the same
  // model: a warm start after a change of encoder, whose embeddings the prompt generator must learn again).
  std::string prompt_generator_init;
  // Above 0: adds this times softplus(loss with the pair's own plan - loss with another pair's plan), weighted by the
  // plan's signal fraction a, so that the decoder learns to write what its plan says (0: the published objective).
  double wrong_plan_weight = 0;
  // Non-empty: a two-class probe (its path without .json, as `dglm train probe` writes it). Adds mirror_weight times
  // the same term with the other plan the pair's own mirrored across the probe's boundary: the plan with the probe's
  // reading reversed and all else kept, so that the decoder learns to write what the probe reads in the plan.
  std::string mirror_probe;
  double mirror_weight = 1;
};
TrainResult train_joint(const std::string& config_path, const std::string& decoder_weights,
                        const std::string& train_pairs, const std::string& valid_pairs, const std::string& stats_path,
                        const TrainParams& params, const JointTrainOptions& options = {},
                        const TrainProgressFn& progress = {});

// The diffusion network on pair files: x = standardised continuation embedding, cond = standardised prefix
// embedding (replaced by the learned null embedding with probability null_probability, for classifier-free
// guidance), t ~ U(0, 1), a = alpha_bar(t), MSE on v. Keeps an exponential moving average of the weights and
// writes it as diffusion.safetensors; metric val_loss of the average on valid_pairs (conditional).
struct DiffusionTrainOptions {
  double ema_decay = 0.999;
  double null_probability = 0.1;
  std::string init_weights;  // non-empty: start the network and its average from this diffusion.safetensors
};
TrainResult train_diffusion(const std::string& config_path, const std::string& train_pairs,
                            const std::string& valid_pairs, const std::string& stats_path, const TrainParams& params,
                            const DiffusionTrainOptions& options = {}, const TrainProgressFn& progress = {});

// The parts of a model directory, as trained by the stages above.
struct AssembleInputs {
  std::string config, tokenizer, encoder, diffusion, prompt, decoder;
  std::string stats;        // the latent statistics JSON of make_pairs
  std::string probes_dir;   // optional: probes (NAME.json and the weights it names) to copy
  bool half = false;        // store the weights as fp16 (the loader widens them)
};
// Writes a complete model directory (config.json with the latent statistics, the tokenizer, the four weight files
// re-saved from networks of the config's shapes, probes), then opens it with Model::open to prove it loads.
ModelInfo assemble_model(const std::string& output_dir, const AssembleInputs& inputs);

}  // namespace dglm
