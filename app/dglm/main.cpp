// SPDX-License-Identifier: GPL-3.0-or-later
// dglm: the command-line face of the core. Exit codes in commands.h.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "commands.h"
#include "dglm/baselines.h"
#include "dglm/bench.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/generator.h"
#include "dglm/model.h"
#include "dglm/runtime.h"
#include "dglm/tiny_model.h"

namespace {

using nlohmann::json;

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
      json tokens = json::array(), logprobs = json::array(), alternatives = json::array();
      for (const auto& t : c.tokens) {
        tokens.push_back(t.text);
        logprobs.push_back(t.logprob);
        json choices = json::array();
        for (const auto& choice : t.alternatives) choices.push_back({{"text", choice.text}, {"logprob", choice.logprob}});
        alternatives.push_back(std::move(choices));
      }
      json line{{"sample", k}, {"text", c.text}, {"tokens", tokens}, {"logprobs", logprobs},
                {"perplexity", c.perplexity}, {"probe_scores", c.probe_scores}};
      if (!c.plan_scores.empty()) line["plan_scores"] = c.plan_scores;  // DGLM: what the guides steered
      if (c.adherence) line["adherence"] = *c.adherence;
      if (params.decoding.alternatives > 0) line["alternatives"] = alternatives;
      std::cout << line.dump() << "\n";
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
  std::string contrast = "unplanned";
  auto* gen = app.add_subcommand("generate", "Write K guided continuations of a prefix");
  gen->add_option("MODEL_DIR", model_dir, "model directory")->required();
  gen->add_option("--prefix", params.prefix, "text to continue (empty: unconditional)");
  gen->add_option("--samples,-k", params.samples, "number of continuations K")->capture_default_str();
  gen->add_option("--tokens,-n", params.max_new_tokens, "new tokens per continuation")->capture_default_str();
  gen->add_option("--sigma2", params.sigma2, "proposal re-noising: 0 follows it exactly, 1 ignores it")
      ->capture_default_str();
  gen->add_option("--proposal-guidance", params.proposal_guidance,
                  "how closely the words follow the proposal (1: off, the published method; above 1 closer, "
                  "decoding twice the rows)")
      ->capture_default_str();
  gen->add_option("--contrast", contrast,
                  "what proposal guidance contrasts the proposal with: unplanned (no proposal) or opposite (the "
                  "proposal of the reversed guides: the words show what the guides changed; without guides, off)")
      ->check(CLI::IsMember({"unplanned", "opposite"}))
      ->capture_default_str();
  gen->add_option("--drafts", params.drafts,
                  "continuations written per proposal, keeping the one that follows it most closely (1: the "
                  "published method; each draft decodes once more)")
      ->check(CLI::Range(1, dglm::kMaxDrafts))
      ->capture_default_str();
  gen->add_option("--cfg", params.cfg, "classifier-free guidance weight (1: off; above 1 the guides steer less)")
      ->capture_default_str();
  gen->add_option("--steps", params.steps, "diffusion sampling steps")->capture_default_str();
  gen->add_option("--sampler", sampler, "ddpm or ddim")->check(CLI::IsMember({"ddpm", "ddim"}))->capture_default_str();
  gen->add_option("--guide", guides, "steer with a probe: PROBE=WEIGHT[:CLASS], e.g. sentiment=+4 topic=2:sports");
  gen->add_option("--temperature", params.decoding.temperature, "decoding temperature")->capture_default_str();
  gen->add_option("--top-p", params.decoding.top_p, "nucleus sampling threshold")->capture_default_str();
  gen->add_option("--repetition-penalty", params.decoding.repetition_penalty, "CTRL repetition penalty")
      ->capture_default_str();
  gen->add_option("--seed", params.seed, "random seed (same seed, same output on CPU)")->capture_default_str();
  gen->add_option("--alternatives", params.decoding.alternatives,
                  "with --json: the N likeliest tokens of each step, per token (at most 50)")
      ->check(CLI::Range(0, 50))->capture_default_str();
  std::string method = "dglm";
  dglm::TokenLevelParams token_level;
  gen->add_option("--method", method, "dglm; or a baseline: ar (plain autoregressive), fudge (token-level control)")
      ->check(CLI::IsMember({"dglm", "ar", "fudge"}))->capture_default_str();
  gen->add_option("--top-k", token_level.top_k, "fudge: candidate tokens re-weighted per step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  gen->add_flag("--json", as_json,
                "one JSON object per line: sample, text, tokens, logprobs, perplexity, probe_scores (of the text), "
                "plan_scores (of the proposal; dglm), adherence (cosine of the text with the proposal; dglm) and "
                "alternatives");
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

  const auto train_cmd = add_train_commands(app);
  const auto eval_cmd = add_eval_command(app);
  std::string bench_output = "docs/BENCHMARKS.md";
  bool bench_quick = false;
  int bench_repetitions = 0;
  dglm::BenchProvenance provenance;
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

  try {
    dglm::set_threads(threads);
    if (const auto warning = dglm::blas_warning(); !warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    if (*info) {
      print_info(dglm::inspect_model(model_dir), as_json);
    } else if (*gen) {
      params.sampler = sampler == "ddim" ? dglm::Sampler::Ddim : dglm::Sampler::Ddpm;
      params.contrast = contrast == "opposite" ? dglm::PlanContrast::Opposite : dglm::PlanContrast::Unplanned;
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
    } else if (*train_cmd.command) {
      return train_cmd.run();
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
