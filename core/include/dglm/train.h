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
  std::string weights_path;             // set when finished
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

}  // namespace dglm
