// SPDX-License-Identifier: GPL-3.0-or-later
// `dglm train STAGE`: one stage at a time, each resumable, with a progress line (rate, ETA) and Ctrl-C that
// checkpoints before it stops.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "dglm/csv.h"
#include "dglm/model.h"
#include "dglm/probe.h"
#include "dglm/runtime.h"
#include "dglm/tokenizer.h"
#include "dglm/train.h"

namespace {

struct ProbeCommand {
  std::string model_dir, csv, heldout_csv, text_column = "text", label_column = "label", output_dir;
  std::vector<std::string> labels;
  std::size_t max_rows = 0;
  dglm::ProbeTrainParams params;
  bool no_balance = false;
};

// A progress line on terminals only, so that logs and tests see just the results.
dglm::ProgressFn terminal_progress(const char* what) {
  if (!::isatty(STDERR_FILENO)) return {};
  return [what](float fraction) {
    std::fprintf(stderr, "\r%s %3.0f%%", what, 100.0f * fraction);
    if (fraction >= 1) std::fprintf(stderr, "\r%-30s\r", "");
    return true;
  };
}

int train_probe(ProbeCommand c) {
  dglm::LabelledCsvOptions options;
  options.allowed_labels = c.labels;
  options.max_rows = c.max_rows;
  options.seed = c.params.seed;
  const auto csv = dglm::read_labelled_csv(c.csv, c.text_column, c.label_column, options, terminal_progress("reading"));
  const auto describe = [](const char* what, const dglm::LabelledCsv& read) {
    std::printf("%s%zu rows", what, read.rows);
    if (read.data.texts.size() < read.rows) std::printf(" (a random sample of %zu used)", read.data.texts.size());
    std::printf(":");
    for (const auto& [label, count] : read.class_counts) std::printf(" %s %zu", label.c_str(), count);
    std::printf("\n");
  };
  describe("", csv);
  dglm::LabelledCsv heldout;
  if (!c.heldout_csv.empty()) {
    heldout = dglm::read_heldout_csv(c.heldout_csv, c.text_column, c.label_column, csv, options.csv);
    describe("held out: ", heldout);
  }

  auto model = dglm::Model::open(c.model_dir);
  if (c.output_dir.empty()) c.output_dir = (std::filesystem::path(c.model_dir) / "probes").string();
  std::filesystem::create_directories(c.output_dir);
  const auto output = (std::filesystem::path(c.output_dir) / c.params.name).string();
  c.params.balance_classes = !c.no_balance;
  const auto report =
      dglm::train_probe(model, csv.data, c.params, output, terminal_progress("embedding"), heldout.data);

  std::printf("train accuracy    %.4f (%zu rows)\n", report.train_accuracy, report.train_rows);
  if (report.heldout_rows == 0) {
    std::printf("held-out accuracy n/a (no held-out rows)\n");
  } else {
    std::printf("held-out accuracy %.4f (%zu rows)\nconfusion (rows: true class, columns: predicted)\n",
                report.heldout_accuracy, report.heldout_rows);
    std::size_t width = 9;
    for (const auto& name : report.classes) width = std::max(width, name.size() + 2);
    std::printf("%*s", static_cast<int>(width), "");
    for (const auto& name : report.classes) std::printf("%*s", static_cast<int>(width), name.c_str());
    std::printf("\n");
    for (std::size_t t = 0; t < report.classes.size(); ++t) {
      std::printf("%*s", static_cast<int>(width), report.classes[t].c_str());
      for (const auto count : report.confusion[t]) std::printf("%*lld", static_cast<int>(width), static_cast<long long>(count));
      std::printf("\n");
    }
  }
  std::printf("wrote %s.json and the weights it names\n", output.c_str());
  return 0;
}

// Ctrl-C during training: the stage writes a checkpoint and returns, instead of losing the steps since the last one.
volatile std::sig_atomic_t interrupted = 0;

std::string duration_text(double seconds) {
  const long s = static_cast<long>(seconds);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  return text;
}

// One line per step on terminals (rewritten in place), one per log interval otherwise; rate and ETA over this run.
dglm::TrainProgressFn training_progress(long log_every, const char* unit) {
  std::signal(SIGINT, [](int) { interrupted = 1; });
  const bool terminal = ::isatty(STDERR_FILENO);
  return [terminal, log_every, unit, first_step = -1L](const dglm::TrainProgress& p) mutable {
    if (first_step < 0) first_step = p.step - 1;
    const double seconds_per_step = p.elapsed_seconds / static_cast<double>(p.step - first_step);
    const auto eta = duration_text(seconds_per_step * static_cast<double>(p.max_steps - p.step));
    if (terminal || p.step % std::max(1L, log_every) == 0 || p.step == p.max_steps)
      std::fprintf(stderr, "%s%s step %ld/%ld  loss %.4f  lr %.2e  %.0f %s/s  ETA %s%s", terminal ? "\r" : "",
                   p.stage, p.step, p.max_steps, p.loss, p.lr, p.items_per_second, unit, eta.c_str(),
                   terminal ? "   " : "\n");
    return !interrupted;
  };
}

int report_training(const dglm::TrainResult& result) {
  if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  if (result.resumed_from > 0) std::printf("resumed from step %ld\n", result.resumed_from);
  if (!result.finished) {
    std::printf("stopped at step %ld after %s in all; run the same command again to resume\n", result.steps_done,
                duration_text(result.seconds).c_str());
    return interrupted ? kExitCancelled : 0;
  }
  std::printf("finished %ld steps in %s\n", result.steps_done, duration_text(result.seconds).c_str());
  for (const auto& [name, value] : result.metrics) std::printf("%-24s %.4f\n", name.c_str(), value);
  for (const auto& path : result.weights_paths) std::printf("wrote %s\n", path.c_str());
  return 0;
}

void add_training_options(CLI::App* command, dglm::TrainParams& p, bool& no_resume, std::string& device) {
  command->add_option("--output", p.output_dir, "directory for the checkpoint, log.csv and the weights")->required();
  command->add_option("--steps", p.max_steps, "optimizer steps in all (a resumed run continues to this)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--budget", p.budget_seconds, "stop with a checkpoint after this many seconds (0: no limit)")
      ->capture_default_str();
  command->add_option("--batch", p.batch_size, "batch size")->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--lr", p.lr, "peak learning rate")->capture_default_str();
  command->add_option("--min-lr", p.min_lr, "learning rate at the end of the cosine decay")->capture_default_str();
  command->add_option("--warmup", p.warmup_steps, "linear warm-up steps")->capture_default_str();
  command->add_option("--weight-decay", p.weight_decay, "AdamW weight decay")->capture_default_str();
  command->add_option("--checkpoint-steps", p.checkpoint_every_steps, "checkpoint every N steps")->capture_default_str();
  command->add_option("--checkpoint-seconds", p.checkpoint_every_seconds, "and at least this often")->capture_default_str();
  command->add_option("--log-steps", p.log_every_steps, "a log.csv row every N steps")->capture_default_str();
  command->add_option("--eval-batches", p.eval_batches, "validation batches at the end")->capture_default_str();
  command->add_option("--seed", p.seed, "random seed (a resumed run must use the same)")->capture_default_str();
  command->add_flag("--no-resume", no_resume, "start afresh even when the output directory holds a checkpoint");
  command->add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
}

// The inputs of the stages that train on pair files.
void add_pair_inputs(CLI::App* command, std::string& config, std::string& train, std::string& valid,
                     std::string& stats) {
  command->add_option("--config", config, "model config.json")->required();
  command->add_option("--train", train, "training pair file (`dglm train pairs`)")->required();
  command->add_option("--valid", valid, "validation pair file")->required();
  command->add_option("--stats", stats, "latent statistics JSON of `dglm train pairs` on the training tokens")
      ->required();
}

// Every option of every stage, filled in by the parser.
struct TrainOptions {
  ProbeCommand probe;
  dglm::SentencePieceTrainParams spm;
  std::string tokenizer_model, corpus_text, tokens_output;
  dglm::TrainParams train_params;
  bool no_resume = false;
  std::string device = "cpu", config_path, train_tokens, valid_tokens;
  dglm::EncoderTrainOptions encoder_options;
  bool no_crop = false;
  dglm::PairParams pair_params;
  std::string encoder_weights, stats_path, decoder_weights;
  dglm::JointTrainOptions joint_options;
  dglm::DiffusionTrainOptions diffusion_options;
  dglm::AssembleInputs assemble_inputs;
  std::string output_dir;

  // The options every resumable stage shares, as parsed.
  dglm::TrainParams training() {
    train_params.resume = !no_resume;
    train_params.device = device == "cuda" ? dglm::Device::Cuda : dglm::Device::Cpu;
    return train_params;
  }
};

}  // namespace

Subcommand add_train_commands(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* train = app.add_subcommand("train", "Train a model part or a probe")->require_subcommand(1);
  auto* train_probe_cmd =
      train->add_subcommand("probe", "Fit a logistic-regression probe on labelled texts from a CSV");
  train_probe_cmd->add_option("MODEL_DIR", o->probe.model_dir, "model directory whose encoder embeds the texts")
      ->required();
  train_probe_cmd->add_option("--csv", o->probe.csv, "CSV file with a text and a label column")->required();
  train_probe_cmd->add_option("--text-column", o->probe.text_column, "column name or 1-based number")
      ->capture_default_str();
  train_probe_cmd->add_option("--label-column", o->probe.label_column, "column name or 1-based number")
      ->capture_default_str();
  train_probe_cmd->add_option("--name", o->probe.params.name, "probe name (file stem, and what --guide refers to)")
      ->required();
  train_probe_cmd->add_option("--description", o->probe.params.description, "one line shown in the app");
  train_probe_cmd->add_option("--labels", o->probe.labels, "allowed labels; any other is an error")->delimiter(',');
  auto* heldout_csv_option = train_probe_cmd->add_option(
      "--heldout-csv", o->probe.heldout_csv, "measure on this CSV (same columns) instead of holding out rows of --csv");
  train_probe_cmd->add_option("--heldout", o->probe.params.heldout_fraction, "fraction of each class held out")
      ->check(CLI::Range(0.0, 0.95))->capture_default_str()->excludes(heldout_csv_option);
  train_probe_cmd->add_option("--l2", o->probe.params.l2, "L2 penalty on the weights")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  train_probe_cmd->add_option("--max-rows", o->probe.max_rows, "use a random sample of this many rows (0: all)")
      ->capture_default_str();
  train_probe_cmd->add_flag("--no-balance", o->probe.no_balance, "do not weight classes by inverse frequency");
  train_probe_cmd->add_option("--seed", o->probe.params.seed, "seed of the held-out split and the sample")
      ->capture_default_str();
  train_probe_cmd->add_option("--output", o->probe.output_dir, "directory for NAME.json and its weights file "
                                                               "(default: MODEL_DIR/probes)");

  auto* train_tokenizer = train->add_subcommand("tokenizer", "Train a SentencePiece tokenizer on a text file");
  train_tokenizer->add_option("--input", o->spm.input_path, "text, one paragraph per line")->required();
  train_tokenizer->add_option("--output-prefix", o->spm.model_prefix, "writes PREFIX.model and PREFIX.vocab")
      ->required();
  train_tokenizer->add_option("--vocab-size", o->spm.vocab_size, "pieces")->capture_default_str();
  train_tokenizer->add_option("--model-type", o->spm.model_type, "unigram or bpe")
      ->check(CLI::IsMember({"unigram", "bpe"}))->capture_default_str();
  train_tokenizer->add_option("--max-sentences", o->spm.max_sentences, "lines sampled for training")
      ->capture_default_str();

  auto* tokenize = train->add_subcommand("tokenize", "Tokenise a corpus (paragraph per line, blank line between "
                                                     "documents) into a token file for training");
  tokenize->add_option("--tokenizer", o->tokenizer_model, "SentencePiece .model")->required();
  tokenize->add_option("--input", o->corpus_text, "corpus text")->required();
  tokenize->add_option("--output", o->tokens_output, "token file (.safetensors)")->required();

  auto* train_decoder_cmd = train->add_subcommand("decoder", "Pre-train the decoder as a language model (resumable)");
  train_decoder_cmd->add_option("--config", o->config_path, "model config.json (architecture, vocabulary size)")
      ->required();
  train_decoder_cmd->add_option("--train", o->train_tokens, "training token file")->required();
  train_decoder_cmd->add_option("--valid", o->valid_tokens, "validation token file")->required();
  add_training_options(train_decoder_cmd, o->train_params, o->no_resume, o->device);

  auto* train_encoder_cmd = train->add_subcommand("encoder", "Train the sentence encoder contrastively on adjacent "
                                                             "spans of a document (resumable)");
  train_encoder_cmd->add_option("--config", o->config_path, "model config.json (architecture, vocabulary size)")
      ->required();
  train_encoder_cmd->add_option("--train", o->train_tokens, "training token file")->required();
  train_encoder_cmd->add_option("--valid", o->valid_tokens, "validation token file (held-out retrieval)")->required();
  train_encoder_cmd->add_option("--temperature", o->encoder_options.temperature, "InfoNCE temperature (0: learned)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_encoder_cmd->add_flag("--no-crop", o->no_crop, "whole spans only (no random crop views)");
  train_encoder_cmd->add_option("--init", o->encoder_options.init_weights,
                                "start from these encoder weights (fine-tuning on a new corpus)");
  auto* labelled_option = train_encoder_cmd->add_option(
      "--labelled", o->encoder_options.labelled_csvs,
      "CSV (text,label) whose classes the embedding should separate (supervised contrastive loss; repeatable)");
  train_encoder_cmd->add_option("--tokenizer", o->encoder_options.tokenizer, "tokenizer.model of the token files")
      ->needs(labelled_option);
  train_encoder_cmd->add_option("--labelled-weight", o->encoder_options.labelled_weight, "weight of that loss")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_encoder_cmd->add_option("--labelled-batch", o->encoder_options.labelled_batch, "labelled rows per step")
      ->check(CLI::Range(2, 4096))->capture_default_str();
  labelled_option->needs("--tokenizer");
  add_training_options(train_encoder_cmd, o->train_params, o->no_resume, o->device);

  auto* train_pairs_cmd = train->add_subcommand("pairs", "Cut a token file into (prefix, continuation) pairs and "
                                                         "embed them with a trained encoder");
  train_pairs_cmd->add_option("--config", o->config_path, "model config.json")->required();
  train_pairs_cmd->add_option("--encoder", o->encoder_weights, "encoder.safetensors of `dglm train encoder`")
      ->required();
  train_pairs_cmd->add_option("--tokens", o->corpus_text, "token file")->required();
  train_pairs_cmd->add_option("--output", o->tokens_output, "pair file (.safetensors)")->required();
  train_pairs_cmd->add_option("--stats", o->stats_path,
                              "also write the latent statistics JSON (from the training pairs)");
  train_pairs_cmd->add_option("--max-pairs", o->pair_params.max_pairs, "a random sample of this many (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_pairs_cmd->add_option("--prefix-tokens", o->pair_params.max_prefix_tokens, "longest prefix")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--min-prefix-tokens", o->pair_params.min_prefix_tokens, "shortest prefix")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--continuation-tokens", o->pair_params.continuation_tokens, "continuation length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--batch", o->pair_params.batch_size, "texts per encoder call")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--seed", o->pair_params.seed, "random seed of the sample and the split points")
      ->capture_default_str();
  train_pairs_cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();

  auto* train_joint_cmd = train->add_subcommand("joint", "Train the prompt generator with the decoder on "
                                                         "noise-augmented continuation embeddings (resumable)");
  add_pair_inputs(train_joint_cmd, o->config_path, o->train_tokens, o->valid_tokens, o->stats_path);
  train_joint_cmd->add_option("--decoder", o->decoder_weights, "pre-trained decoder.safetensors")->required();
  train_joint_cmd->add_option("--init-prompt-generator", o->joint_options.prompt_generator_init,
                              "start the prompt generator from these weights (a warm start; default: fresh)");
  train_joint_cmd->add_option("--wrong-plan-weight", o->joint_options.wrong_plan_weight,
                              "reward following the plan: weight of softplus(own-plan loss - another plan's loss)")
      ->capture_default_str();
  train_joint_cmd->add_option("--mirror-probe", o->joint_options.mirror_probe,
                              "a two-class probe (PATH without .json): also reward each continuation being likelier "
                              "under its plan than under the plan mirrored across the probe's boundary");
  train_joint_cmd->add_option("--mirror-weight", o->joint_options.mirror_weight, "weight of the --mirror-probe term")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  add_training_options(train_joint_cmd, o->train_params, o->no_resume, o->device);

  auto* train_diffusion_cmd = train->add_subcommand("diffusion", "Train the diffusion network on embedding pairs, "
                                                                 "with CFG dropout and EMA (resumable)");
  add_pair_inputs(train_diffusion_cmd, o->config_path, o->train_tokens, o->valid_tokens, o->stats_path);
  train_diffusion_cmd->add_option("--ema", o->diffusion_options.ema_decay, "decay of the weights' moving average")
      ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  train_diffusion_cmd->add_option("--null-probability", o->diffusion_options.null_probability,
                                  "share of prefixes replaced by the null embedding (classifier-free guidance)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  train_diffusion_cmd->add_option("--init", o->diffusion_options.init_weights,
                                  "start from these diffusion weights (a warm start; default: fresh)");
  add_training_options(train_diffusion_cmd, o->train_params, o->no_resume, o->device);

  auto* assemble_cmd = train->add_subcommand("assemble", "Put the trained parts into a model directory and check "
                                                         "that it opens");
  assemble_cmd->add_option("OUTPUT_DIR", o->output_dir, "model directory to write")->required();
  assemble_cmd->add_option("--config", o->assemble_inputs.config, "model config.json (its latent_stats are replaced)")
      ->required();
  assemble_cmd->add_option("--tokenizer", o->assemble_inputs.tokenizer, "SentencePiece .model")->required();
  assemble_cmd->add_option("--encoder", o->assemble_inputs.encoder, "encoder.safetensors")->required();
  assemble_cmd->add_option("--diffusion", o->assemble_inputs.diffusion, "diffusion.safetensors")->required();
  assemble_cmd->add_option("--prompt", o->assemble_inputs.prompt, "prompt_generator.safetensors")->required();
  assemble_cmd->add_option("--decoder", o->assemble_inputs.decoder, "decoder.safetensors (of `dglm train joint`)")
      ->required();
  assemble_cmd->add_option("--stats", o->assemble_inputs.stats, "latent statistics JSON of `dglm train pairs`")
      ->required();
  assemble_cmd->add_option("--probes", o->assemble_inputs.probes_dir, "directory of probes to copy");
  assemble_cmd->add_flag("--half", o->assemble_inputs.half, "store the weights as fp16");

  return {train, [=] {
            if (*train_probe_cmd) {
              return train_probe(o->probe);
            } else if (*train_tokenizer) {
              o->spm.threads = dglm::threads();
              dglm::train_sentencepiece(o->spm);
              std::printf("wrote %s.model\n", o->spm.model_prefix.c_str());
            } else if (*tokenize) {
              const auto corpus = dglm::tokenize_corpus(o->tokenizer_model, o->corpus_text, o->tokens_output);
              std::printf("%zu documents, %zu tokens -> %s\n", corpus.documents, corpus.tokens,
                          o->tokens_output.c_str());
            } else if (*train_decoder_cmd) {
              return report_training(dglm::train_decoder(o->config_path, o->train_tokens, o->valid_tokens,
                                                         o->training(),
                                                         training_progress(o->train_params.log_every_steps, "tokens")));
            } else if (*train_encoder_cmd) {
              o->encoder_options.crop = !o->no_crop;
              return report_training(dglm::train_encoder(o->config_path, o->train_tokens, o->valid_tokens,
                                                         o->training(), o->encoder_options,
                                                         training_progress(o->train_params.log_every_steps, "pairs")));
            } else if (*train_pairs_cmd) {
              o->pair_params.device = o->device == "cuda" ? dglm::Device::Cuda : dglm::Device::Cpu;
              const auto report = dglm::make_pairs(o->config_path, o->encoder_weights, o->corpus_text, o->tokens_output,
                                                   o->stats_path, o->pair_params, terminal_progress("embedding"));
              std::printf("%ld pairs of %ld windows -> %s\n", report.pairs, report.windows, o->tokens_output.c_str());
              if (!o->stats_path.empty()) std::printf("wrote %s\n", o->stats_path.c_str());
            } else if (*train_joint_cmd) {
              return report_training(dglm::train_joint(o->config_path, o->decoder_weights, o->train_tokens,
                                                       o->valid_tokens, o->stats_path, o->training(),
                                                       o->joint_options, training_progress(o->train_params.log_every_steps, "tokens")));
            } else if (*train_diffusion_cmd) {
              const auto progress = training_progress(o->train_params.log_every_steps, "pairs");
              return report_training(dglm::train_diffusion(o->config_path, o->train_tokens, o->valid_tokens,
                                                           o->stats_path, o->training(), o->diffusion_options,
                                                           progress));
            } else if (*assemble_cmd) {
              const auto info = dglm::assemble_model(o->output_dir, o->assemble_inputs);
              std::int64_t parameters = 0;
              for (const auto& [name, part] : info.parts) parameters += part.parameters;
              std::printf("wrote %s (%lld parameters, %zu probes); it opens\n", info.directory.c_str(),
                          static_cast<long long>(parameters), info.probes.size());
            }
            return 0;
          }};
}
