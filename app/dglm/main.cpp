// SPDX-License-Identifier: GPL-3.0-or-later
// dglm: the command-line face of the core. Exit codes: 0 success, 1 an error in the input or the model (a
// message on stderr says what and where), 2 a usage error, 3 cancelled.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "dglm/csv.h"
#include "dglm/baselines.h"
#include "dglm/bench.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/generator.h"
#include "dglm/model.h"
#include "dglm/probe.h"
#include "dglm/runtime.h"
#include "dglm/tiny_model.h"
#include "dglm/tokenizer.h"
#include "dglm/train.h"
#include "eval_command.h"

namespace {

using nlohmann::json;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCancelled = 3;

// "sentiment=+4", "topic=2:sports" -> Guide.
dglm::Guide parse_guide(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw CLI::ValidationError("--guide", "expected PROBE=WEIGHT[:CLASS], got '" + text + "'");
  dglm::Guide guide;
  guide.probe = text.substr(0, eq);
  const auto rest = text.substr(eq + 1);
  const auto colon = rest.find(':');
  try {
    std::size_t used = 0;
    const auto number = rest.substr(0, colon);
    guide.weight = std::stof(number, &used);
    if (used != number.size()) throw std::invalid_argument(number);
  } catch (const std::exception&) {
    throw CLI::ValidationError("--guide", "weight in '" + text + "' is not a number");
  }
  if (colon != std::string::npos) guide.target_class = rest.substr(colon + 1);
  return guide;
}

void print_info(const dglm::ModelInfo& info, bool as_json) {
  const auto& c = info.config;
  if (as_json) {
    json parts = json::object(), probes = json::array();
    for (const auto& [name, p] : info.parts)
      parts[name] = {{"file", p.file}, {"parameters", p.parameters}, {"bytes", p.bytes}, {"xxh64", p.xxh64}};
    for (const auto& p : info.probes)
      probes.push_back({{"name", p.name}, {"classes", p.classes}, {"heldout_accuracy", p.heldout_accuracy}});
    std::cout << json{{"directory", info.directory}, {"config", json::parse(dglm::model_config_to_json(c))},
                      {"parts", parts}, {"probes", probes}}.dump(2)
              << "\n";
    return;
  }
  std::printf("model      %s\ndirectory  %s\nformat     %d\nvocabulary %d pieces (%s)\nlatent     %d dims\n",
              c.name.c_str(), info.directory.c_str(), c.format_version, c.vocab_size, c.tokenizer_file.c_str(),
              c.latent_dim);
  std::printf("encoder    d=%d layers=%d heads=%d ff=%d max_tokens=%d\n", c.encoder.d_model, c.encoder.n_layers,
              c.encoder.n_heads, c.encoder.d_ff, c.encoder.max_tokens);
  std::printf("diffusion  d=%d layers=%d heads=%d splice=%dx%d\n", c.diffusion.d_model, c.diffusion.n_layers,
              c.diffusion.n_heads, c.diffusion.splice_tokens, c.diffusion.splice_dim);
  std::printf("prompt     d=%d layers=%d heads=%d prompts=%d\n", c.prompt.d_model, c.prompt.n_layers,
              c.prompt.n_heads, c.prompt.prompt_tokens);
  std::printf("decoder    d=%d layers=%d heads=%d context=%d\n\n", c.decoder.d_model, c.decoder.n_layers,
              c.decoder.n_heads, c.decoder.context);
  std::printf("%-18s %-30s %12s %12s  %s\n", "part", "file", "parameters", "bytes", "xxh64");
  std::int64_t total = 0;
  for (const auto& [name, p] : info.parts) {
    std::printf("%-18s %-30s %12lld %12lld  %s\n", name.c_str(), p.file.c_str(), static_cast<long long>(p.parameters),
                static_cast<long long>(p.bytes), p.xxh64.c_str());
    total += p.parameters;
  }
  std::printf("%-18s %-30s %12lld\n\nprobes\n", "total", "", static_cast<long long>(total));
  for (const auto& p : info.probes) {
    std::string classes;
    for (const auto& cls : p.classes) classes += (classes.empty() ? "" : ", ") + cls;
    std::printf("  %-14s [%s]%s\n", p.name.c_str(), classes.c_str(),
                p.heldout_accuracy >= 0 ? (" held-out accuracy " + std::to_string(p.heldout_accuracy)).c_str() : "");
  }
}

int generate(const std::string& model_dir, dglm::Device device, dglm::GenerateParams params,
             const std::vector<std::string>& guides, dglm::Method method, const dglm::TokenLevelParams& token_level,
             bool as_json, bool quiet) {
  for (const auto& g : guides) params.guides.push_back(parse_guide(g));
  auto model = dglm::Model::open(model_dir, device);
  dglm::GenerateCallbacks callbacks;
  const bool show_progress = !quiet && ::isatty(STDERR_FILENO);
  if (show_progress)
    callbacks.progress = [](dglm::Stage stage, float fraction) {
      std::fprintf(stderr, "\r%-9s %3.0f%%", dglm::to_string(stage), 100.0f * fraction);
      return true;
    };
  const auto result = dglm::generate_with(method, model, params, callbacks, token_level);
  if (show_progress) std::fprintf(stderr, "\r%-20s\r", "");
  if (result.status == dglm::Status::Cancelled) return kExitCancelled;
  for (const auto& warning : result.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  for (std::size_t k = 0; k < result.candidates.size(); ++k) {
    const auto& c = result.candidates[k];
    if (as_json) {
      json tokens = json::array(), logprobs = json::array();
      for (const auto& t : c.tokens) {
        tokens.push_back(t.text);
        logprobs.push_back(t.logprob);
      }
      std::cout << json{{"sample", k}, {"text", c.text}, {"tokens", tokens}, {"logprobs", logprobs},
                        {"perplexity", c.perplexity}, {"probe_scores", c.probe_scores}}.dump()
                << "\n";
    } else {
      std::printf("[%zu] (perplexity %.1f) %s%s\n", k, c.perplexity, params.prefix.c_str(), c.text.c_str());
    }
  }
  if (!quiet)
    std::fprintf(stderr, "encode %.3fs  diffusion %.3fs  prompt %.3fs  decode %.3fs  score %.3fs  first token %.3fs\n",
                 result.times.encode_s, result.times.diffusion_s, result.times.prompt_s, result.times.decode_s,
                 result.times.score_s, result.times.first_token_s);
  return 0;
}

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

// The commit of the working directory, for the report; empty outside a git checkout.
std::string git_commit() {
  std::string commit;
  if (FILE* git = ::popen("git rev-parse --short HEAD 2>/dev/null", "r")) {
    char buffer[64] = {};
    if (std::fgets(buffer, sizeof buffer, git)) commit = buffer;
    ::pclose(git);
  }
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
  return commit;
}

int bench(const std::string& model_dir, const std::string& output, bool quick, int repetitions,
          dglm::BenchProvenance provenance, bool quiet) {
  dglm::BenchParams params;
  if (quick) {  // seconds on the tiny model: for tests and a first look
    params.new_tokens = {8, 16};
    params.samples = {1, 4};
    params.repetitions = 2;
    params.diffusion_steps = 10;
    params.step_counts = {5, 10};
    params.probe_rows = 100;
  }
  if (repetitions > 0) params.repetitions = repetitions;
  if (provenance.commit.empty()) provenance.commit = git_commit();
  char date[32] = {};
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  provenance.date = date;
  const auto report = dglm::run_bench(model_dir, params, [quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "bench: %s\n", line.c_str());
  });
  const auto markdown = dglm::bench_markdown(report, provenance);
  if (output == "-") {
    std::cout << markdown;
  } else {
    dglm::write_file_atomic(output, markdown);
    if (!quiet) std::fprintf(stderr, "wrote %s\n", output.c_str());
  }
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dglm: diffusion-guided language modelling from the command line"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for LibTorch (0: all cores)")->check(CLI::NonNegativeNumber);

  std::string model_dir;
  bool as_json = false;

  auto* info = app.add_subcommand("info", "Print a model directory's configuration, parameter counts and checksums");
  info->add_option("MODEL_DIR", model_dir, "model directory")->required();
  info->add_flag("--json", as_json, "print JSON");

  dglm::GenerateParams params;
  std::vector<std::string> guides;
  bool quiet = false;
  std::string sampler = "ddpm";
  auto* gen = app.add_subcommand("generate", "Write K guided continuations of a prefix");
  gen->add_option("MODEL_DIR", model_dir, "model directory")->required();
  gen->add_option("--prefix", params.prefix, "text to continue (empty: unconditional)");
  gen->add_option("--samples,-k", params.samples, "number of continuations K")->capture_default_str();
  gen->add_option("--tokens,-n", params.max_new_tokens, "new tokens per continuation")->capture_default_str();
  gen->add_option("--sigma2", params.sigma2, "proposal re-noising: 0 follows it exactly, 1 ignores it")
      ->capture_default_str();
  gen->add_option("--cfg", params.cfg, "classifier-free guidance weight (1: off)")->capture_default_str();
  gen->add_option("--steps", params.steps, "diffusion sampling steps")->capture_default_str();
  gen->add_option("--sampler", sampler, "ddpm or ddim")->check(CLI::IsMember({"ddpm", "ddim"}))->capture_default_str();
  gen->add_option("--guide", guides, "steer with a probe: PROBE=WEIGHT[:CLASS], e.g. sentiment=+4 topic=2:sports");
  gen->add_option("--temperature", params.decoding.temperature, "decoding temperature")->capture_default_str();
  gen->add_option("--top-p", params.decoding.top_p, "nucleus sampling threshold")->capture_default_str();
  gen->add_option("--repetition-penalty", params.decoding.repetition_penalty, "CTRL repetition penalty")
      ->capture_default_str();
  gen->add_option("--seed", params.seed, "random seed (same seed, same output on CPU)")->capture_default_str();
  std::string method = "dglm";
  dglm::TokenLevelParams token_level;
  gen->add_option("--method", method, "dglm; or a baseline: ar (plain autoregressive), fudge (token-level control)")
      ->check(CLI::IsMember({"dglm", "ar", "fudge"}))->capture_default_str();
  gen->add_option("--top-k", token_level.top_k, "fudge: candidate tokens re-weighted per step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  gen->add_flag("--json", as_json, "one JSON object per line: sample, text, tokens, logprobs, probe_scores");
  gen->add_flag("--quiet,-q", quiet, "no progress (shown on terminals only) or timings on stderr");
  std::string generate_device = "cpu";
  gen->add_option("--device", generate_device, "cpu, or cuda where LibTorch has it")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();

  std::string output_dir;
  std::uint64_t seed = 0;
  auto* tiny = app.add_subcommand("make-tiny-model", "Write a tiny random-weights model directory (for tests)");
  tiny->add_option("OUTPUT_DIR", output_dir, "directory to create")->required();
  tiny->add_option("--seed", seed, "random seed")->capture_default_str();

  auto* train = app.add_subcommand("train", "Train a model part or a probe")->require_subcommand(1);
  ProbeCommand probe;
  auto* train_probe_cmd = train->add_subcommand("probe", "Fit a logistic-regression probe on labelled texts from a CSV");
  train_probe_cmd->add_option("MODEL_DIR", probe.model_dir, "model directory whose encoder embeds the texts")->required();
  train_probe_cmd->add_option("--csv", probe.csv, "CSV file with a text and a label column")->required();
  train_probe_cmd->add_option("--text-column", probe.text_column, "column name or 1-based number")->capture_default_str();
  train_probe_cmd->add_option("--label-column", probe.label_column, "column name or 1-based number")->capture_default_str();
  train_probe_cmd->add_option("--name", probe.params.name, "probe name (file stem, and what --guide refers to)")->required();
  train_probe_cmd->add_option("--description", probe.params.description, "one line shown in the app");
  train_probe_cmd->add_option("--labels", probe.labels, "allowed labels; any other is an error")->delimiter(',');
  auto* heldout_csv_option = train_probe_cmd->add_option(
      "--heldout-csv", probe.heldout_csv, "measure on this CSV (same columns) instead of holding out rows of --csv");
  train_probe_cmd->add_option("--heldout", probe.params.heldout_fraction, "fraction of each class held out")
      ->check(CLI::Range(0.0, 0.95))->capture_default_str()->excludes(heldout_csv_option);
  train_probe_cmd->add_option("--l2", probe.params.l2, "L2 penalty on the weights")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  train_probe_cmd->add_option("--max-rows", probe.max_rows, "use a random sample of this many rows (0: all)")
      ->capture_default_str();
  train_probe_cmd->add_flag("--no-balance", probe.no_balance, "do not weight classes by inverse frequency");
  train_probe_cmd->add_option("--seed", probe.params.seed, "seed of the held-out split and the sample")->capture_default_str();
  train_probe_cmd->add_option("--output", probe.output_dir, "directory for NAME.json and its weights file "
                                                            "(default: MODEL_DIR/probes)");

  dglm::SentencePieceTrainParams spm;
  auto* train_tokenizer = train->add_subcommand("tokenizer", "Train a SentencePiece tokenizer on a text file");
  train_tokenizer->add_option("--input", spm.input_path, "text, one paragraph per line")->required();
  train_tokenizer->add_option("--output-prefix", spm.model_prefix, "writes PREFIX.model and PREFIX.vocab")->required();
  train_tokenizer->add_option("--vocab-size", spm.vocab_size, "pieces")->capture_default_str();
  train_tokenizer->add_option("--model-type", spm.model_type, "unigram or bpe")
      ->check(CLI::IsMember({"unigram", "bpe"}))->capture_default_str();
  train_tokenizer->add_option("--max-sentences", spm.max_sentences, "lines sampled for training")->capture_default_str();

  std::string tokenizer_model, corpus_text, tokens_output;
  auto* tokenize = train->add_subcommand("tokenize", "Tokenise a corpus (paragraph per line, blank line between "
                                                     "documents) into a token file for training");
  tokenize->add_option("--tokenizer", tokenizer_model, "SentencePiece .model")->required();
  tokenize->add_option("--input", corpus_text, "corpus text")->required();
  tokenize->add_option("--output", tokens_output, "token file (.safetensors)")->required();

  dglm::TrainParams train_params;
  bool no_resume = false;
  std::string device = "cpu", config_path, train_tokens, valid_tokens;
  auto* train_decoder_cmd = train->add_subcommand("decoder", "Pre-train the decoder as a language model (resumable)");
  train_decoder_cmd->add_option("--config", config_path, "model config.json (architecture, vocabulary size)")->required();
  train_decoder_cmd->add_option("--train", train_tokens, "training token file")->required();
  train_decoder_cmd->add_option("--valid", valid_tokens, "validation token file")->required();
  add_training_options(train_decoder_cmd, train_params, no_resume, device);

  dglm::EncoderTrainOptions encoder_options;
  bool no_crop = false;
  auto* train_encoder_cmd = train->add_subcommand("encoder", "Train the sentence encoder contrastively on adjacent "
                                                             "spans of a document (resumable)");
  train_encoder_cmd->add_option("--config", config_path, "model config.json (architecture, vocabulary size)")
      ->required();
  train_encoder_cmd->add_option("--train", train_tokens, "training token file")->required();
  train_encoder_cmd->add_option("--valid", valid_tokens, "validation token file (held-out retrieval)")->required();
  train_encoder_cmd->add_option("--temperature", encoder_options.temperature, "InfoNCE temperature (0: learned)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_encoder_cmd->add_flag("--no-crop", no_crop, "whole spans only (no random crop views)");
  train_encoder_cmd->add_option("--init", encoder_options.init_weights,
                                "start from these encoder weights (fine-tuning on a new corpus)");
  auto* labelled_option = train_encoder_cmd->add_option(
      "--labelled", encoder_options.labelled_csvs,
      "CSV (text,label) whose classes the embedding should separate (supervised contrastive loss; repeatable)");
  train_encoder_cmd->add_option("--tokenizer", encoder_options.tokenizer, "tokenizer.model of the token files")
      ->needs(labelled_option);
  train_encoder_cmd->add_option("--labelled-weight", encoder_options.labelled_weight, "weight of that loss")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_encoder_cmd->add_option("--labelled-batch", encoder_options.labelled_batch, "labelled rows per step")
      ->check(CLI::Range(2, 4096))->capture_default_str();
  labelled_option->needs("--tokenizer");
  add_training_options(train_encoder_cmd, train_params, no_resume, device);

  dglm::PairParams pair_params;
  std::string encoder_weights, stats_path;
  auto* train_pairs_cmd = train->add_subcommand("pairs", "Cut a token file into (prefix, continuation) pairs and "
                                                         "embed them with a trained encoder");
  train_pairs_cmd->add_option("--config", config_path, "model config.json")->required();
  train_pairs_cmd->add_option("--encoder", encoder_weights, "encoder.safetensors of `dglm train encoder`")->required();
  train_pairs_cmd->add_option("--tokens", corpus_text, "token file")->required();
  train_pairs_cmd->add_option("--output", tokens_output, "pair file (.safetensors)")->required();
  train_pairs_cmd->add_option("--stats", stats_path, "also write the latent statistics JSON (from the training pairs)");
  train_pairs_cmd->add_option("--max-pairs", pair_params.max_pairs, "a random sample of this many (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_pairs_cmd->add_option("--prefix-tokens", pair_params.max_prefix_tokens, "longest prefix")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--min-prefix-tokens", pair_params.min_prefix_tokens, "shortest prefix")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--continuation-tokens", pair_params.continuation_tokens, "continuation length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--batch", pair_params.batch_size, "texts per encoder call")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_pairs_cmd->add_option("--seed", pair_params.seed, "random seed of the sample and the split points")
      ->capture_default_str();
  train_pairs_cmd->add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();

  std::string decoder_weights;
  auto* train_joint_cmd = train->add_subcommand("joint", "Train the prompt generator with the decoder on "
                                                         "noise-augmented continuation embeddings (resumable)");
  add_pair_inputs(train_joint_cmd, config_path, train_tokens, valid_tokens, stats_path);
  train_joint_cmd->add_option("--decoder", decoder_weights, "pre-trained decoder.safetensors")->required();
  add_training_options(train_joint_cmd, train_params, no_resume, device);

  dglm::DiffusionTrainOptions diffusion_options;
  auto* train_diffusion_cmd = train->add_subcommand("diffusion", "Train the diffusion network on embedding pairs, "
                                                                 "with CFG dropout and EMA (resumable)");
  add_pair_inputs(train_diffusion_cmd, config_path, train_tokens, valid_tokens, stats_path);
  train_diffusion_cmd->add_option("--ema", diffusion_options.ema_decay, "decay of the weights' moving average")
      ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  train_diffusion_cmd->add_option("--null-probability", diffusion_options.null_probability,
                                  "share of prefixes replaced by the null embedding (classifier-free guidance)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  add_training_options(train_diffusion_cmd, train_params, no_resume, device);

  dglm::AssembleInputs assemble_inputs;
  auto* assemble_cmd = train->add_subcommand("assemble", "Put the trained parts into a model directory and check "
                                                         "that it opens");
  assemble_cmd->add_option("OUTPUT_DIR", output_dir, "model directory to write")->required();
  assemble_cmd->add_option("--config", assemble_inputs.config, "model config.json (its latent_stats are replaced)")
      ->required();
  assemble_cmd->add_option("--tokenizer", assemble_inputs.tokenizer, "SentencePiece .model")->required();
  assemble_cmd->add_option("--encoder", assemble_inputs.encoder, "encoder.safetensors")->required();
  assemble_cmd->add_option("--diffusion", assemble_inputs.diffusion, "diffusion.safetensors")->required();
  assemble_cmd->add_option("--prompt", assemble_inputs.prompt, "prompt_generator.safetensors")->required();
  assemble_cmd->add_option("--decoder", assemble_inputs.decoder, "decoder.safetensors (of `dglm train joint`)")
      ->required();
  assemble_cmd->add_option("--stats", assemble_inputs.stats, "latent statistics JSON of `dglm train pairs`")
      ->required();
  assemble_cmd->add_option("--probes", assemble_inputs.probes_dir, "directory of probes to copy");
  assemble_cmd->add_flag("--half", assemble_inputs.half, "store the weights as fp16");

  std::string bench_output = "docs/BENCHMARKS.md";
  bool bench_quick = false;
  int bench_repetitions = 0;
  dglm::BenchProvenance provenance;
  const auto eval_cmd = add_eval_command(app);
  auto* bench_cmd = app.add_subcommand("bench", "Time DGLM against plain AR and token-level control; write Markdown");
  bench_cmd->add_option("MODEL_DIR", model_dir, "model directory")->required();
  bench_cmd->add_option("--output,-o", bench_output, "report file ('-': standard output)")->capture_default_str();
  bench_cmd->add_flag("--quick", bench_quick, "small matrix (8 and 16 tokens, K = 1 and 4, 2 repetitions)");
  bench_cmd->add_option("--repetitions", bench_repetitions, "repetitions per cell (default 3, quick 2)")
      ->check(CLI::PositiveNumber);
  bench_cmd->add_option("--commit", provenance.commit, "commit named in the report (default: git rev-parse HEAD)");
  bench_cmd->add_flag("--quiet,-q", quiet, "no progress lines on stderr");

  // CLI11 would only say "a subcommand is required" for a mistyped one; name it instead.
  if (argc > 1 && argv[1][0] != '-' && !app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == argv[1]; }).size()) {
    std::string known;
    for (const auto* sub : app.get_subcommands({})) known += (known.empty() ? "" : ", ") + sub->get_name();
    std::fprintf(stderr, "dglm: unknown command '%s' (commands: %s; see dglm --help)\n", argv[1], known.c_str());
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  // The options every resumable stage shares, as parsed.
  auto training = [&] {
    train_params.resume = !no_resume;
    train_params.device = device == "cuda" ? dglm::Device::Cuda : dglm::Device::Cpu;
    return train_params;
  };
  try {
    dglm::set_threads(threads);
    if (const auto warning = dglm::blas_warning(); !warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    if (*info) {
      print_info(dglm::inspect_model(model_dir), as_json);
    } else if (*gen) {
      params.sampler = sampler == "ddim" ? dglm::Sampler::Ddim : dglm::Sampler::Ddpm;
      return generate(model_dir, generate_device == "cuda" ? dglm::Device::Cuda : dglm::Device::Cpu, params, guides,
                      dglm::method_from_string(method), token_level, as_json, quiet);
    } else if (*eval_cmd.command) {
      return eval_cmd.run();
    } else if (*bench_cmd) {
      for (int i = 0; i < argc; ++i) provenance.command += (i ? " " : "") + std::string(i ? argv[i] : "dglm");
      return bench(model_dir, bench_output, bench_quick, bench_repetitions, provenance, quiet);
    } else if (*tiny) {
      dglm::make_tiny_model(output_dir, seed);
      std::printf("wrote %s\n", output_dir.c_str());
    } else if (*train_probe_cmd) {
      return train_probe(probe);
    } else if (*train_tokenizer) {
      spm.threads = dglm::threads();
      dglm::train_sentencepiece(spm);
      std::printf("wrote %s.model\n", spm.model_prefix.c_str());
    } else if (*tokenize) {
      const auto corpus = dglm::tokenize_corpus(tokenizer_model, corpus_text, tokens_output);
      std::printf("%zu documents, %zu tokens -> %s\n", corpus.documents, corpus.tokens, tokens_output.c_str());
    } else if (*train_decoder_cmd) {
      return report_training(dglm::train_decoder(config_path, train_tokens, valid_tokens, training(),
                                                 training_progress(train_params.log_every_steps, "tokens")));
    } else if (*train_encoder_cmd) {
      encoder_options.crop = !no_crop;
      return report_training(dglm::train_encoder(config_path, train_tokens, valid_tokens, training(), encoder_options,
                                                 training_progress(train_params.log_every_steps, "pairs")));
    } else if (*train_pairs_cmd) {
      pair_params.device = device == "cuda" ? dglm::Device::Cuda : dglm::Device::Cpu;
      const auto report = dglm::make_pairs(config_path, encoder_weights, corpus_text, tokens_output, stats_path,
                                           pair_params, terminal_progress("embedding"));
      std::printf("%ld pairs of %ld windows -> %s\n", report.pairs, report.windows, tokens_output.c_str());
      if (!stats_path.empty()) std::printf("wrote %s\n", stats_path.c_str());
    } else if (*train_joint_cmd) {
      return report_training(dglm::train_joint(config_path, decoder_weights, train_tokens, valid_tokens, stats_path,
                                               training(), training_progress(train_params.log_every_steps, "tokens")));
    } else if (*train_diffusion_cmd) {
      return report_training(dglm::train_diffusion(config_path, train_tokens, valid_tokens, stats_path, training(),
                                                   diffusion_options,
                                                   training_progress(train_params.log_every_steps, "pairs")));
    } else if (*assemble_cmd) {
      const auto info = dglm::assemble_model(output_dir, assemble_inputs);
      std::int64_t parameters = 0;
      for (const auto& [name, part] : info.parts) parameters += part.parameters;
      std::printf("wrote %s (%lld parameters, %zu probes); it opens\n", info.directory.c_str(),
                  static_cast<long long>(parameters), info.probes.size());
    }
  } catch (const CLI::ValidationError& e) {
    std::fprintf(stderr, "dglm: %s\n", e.what());
    return kExitUsage;
  } catch (const dglm::Error& e) {
    std::fprintf(stderr, "dglm: %s: %s\n", dglm::to_string(e.kind()), e.what());
    return e.kind() == dglm::ErrorKind::Cancelled ? kExitCancelled : kExitError;
  } catch (const c10::Error& e) {  // LibTorch itself, e.g. out of memory during training
    std::fprintf(stderr, "dglm: LibTorch: %s\n", e.what_without_backtrace());
    return kExitError;
  } catch (const std::exception& e) {  // e.g. an output directory that cannot be made
    std::fprintf(stderr, "dglm: %s\n", e.what());
    return kExitError;
  }
  return 0;
}
