// SPDX-License-Identifier: GPL-3.0-or-later
// The benchmark matrix: every variant at every (new tokens, K), repetitions interleaved so that ratios compare
// runs made under the same machine load; medians; matmul bound; peak RSS; probe training speed.
#include "dglm/bench.h"

#include <ATen/ops/mm.h>
#include <ATen/ops/randn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "dglm/error.h"
#include "dglm/probe.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// Best fp32 matrix-multiply throughput over a few square sizes: the bound decoding works against.
double matmul_gflops() {
  double best = 0;
  for (int64_t n : {256, 512, 1024}) {
    const auto a = at::randn({n, n}), b = at::randn({n, n});
    at::mm(a, b);  // warm-up: thread pool, caches
    int iterations = 0;
    const auto start = Clock::now();
    do {
      at::mm(a, b);
      ++iterations;
    } while (seconds_since(start) < 0.2);
    best = std::max(best, 2.0 * static_cast<double>(n * n * n) * iterations / seconds_since(start) / 1e9);
  }
  return best;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Drafts per sample of the drafts variants.
constexpr int kBenchDrafts = 4;

struct Variant {
  std::string name;
  Method method;
  std::vector<Guide> guides;
  float proposal_guidance = 1;
  PlanContrast contrast = PlanContrast::Unplanned;
  int drafts = 1;
};

std::vector<Variant> variants_for(const ModelInfo& info, float weight) {
  auto guides = [&](std::size_t count) {
    std::vector<Guide> g;
    for (std::size_t i = 0; i < std::min(count, info.probes.size()); ++i) g.push_back({info.probes[i].name, weight, ""});
    return g;
  };
  auto probes = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " probe" : " probes"); };
  std::vector<Variant> variants{{"DGLM", Method::Dglm, {}}};
  if (!info.probes.empty()) {
    variants.push_back({"DGLM " + probes(1), Method::Dglm, guides(1)});
    // Proposal guidance decodes twice the rows: its price next to the same guided run without it.
    variants.push_back({"DGLM " + probes(1) + ", plan guidance 2", Method::Dglm, guides(1), 2});
    // Against the guides reversed it also samples the diffusion twice.
    variants.push_back({"DGLM " + probes(1) + ", plan guidance 2 vs reversed", Method::Dglm, guides(1), 2,
                        PlanContrast::Opposite});
    // Drafts decode every sample kBenchDrafts times.
    variants.push_back({"DGLM " + probes(1) + ", " + std::to_string(kBenchDrafts) + " drafts", Method::Dglm, guides(1),
                        1, PlanContrast::Unplanned, kBenchDrafts});
    // Both at once: the writer app's defaults.
    variants.push_back({"DGLM " + probes(1) + ", plan guidance 2 vs reversed, " + std::to_string(kBenchDrafts) +
                            " drafts",
                        Method::Dglm, guides(1), 2, PlanContrast::Opposite, kBenchDrafts});
    const auto three = std::min<std::size_t>(3, info.probes.size());
    if (three > 1) variants.push_back({"DGLM " + probes(three), Method::Dglm, guides(3)});
  }
  variants.push_back({"AR", Method::Autoregressive, {}});
  if (!info.probes.empty()) variants.push_back({"FUDGE " + probes(1), Method::TokenLevel, guides(1)});
  return variants;
}

// Labelled sentences of two kinds for timing probe training (what they say does not matter).
LabelledTexts synthetic_rows(int rows) {
  static const char* kGood[] = {"a lovely calm morning by the sea", "we enjoyed the warm and friendly visit",
                                "the garden looked bright and cheerful"};
  static const char* kBad[] = {"a grim cold night in the broken town", "they hated the long and dreary wait",
                               "the road was muddy and the rain never stopped"};
  LabelledTexts data;
  for (int i = 0; i < rows; ++i) {
    const bool good = i % 2 == 0;
    data.texts.push_back(std::string(good ? kGood[i % 3] : kBad[i % 3]) + ", note " + std::to_string(i));
    data.labels.push_back(good ? "good" : "bad");
  }
  return data;
}

double probe_seconds_per_1k_rows(const Model& model, int rows) {
  const auto dir = std::filesystem::temp_directory_path() / ("dglm-bench-probe-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ProbeTrainParams params;
  params.name = "bench";
  const auto start = Clock::now();
  train_probe(model, synthetic_rows(rows), params, (dir / "bench").string());
  const double seconds = seconds_since(start);
  std::filesystem::remove_all(dir);
  return seconds * 1000.0 / rows;
}

}  // namespace

const BenchCell* BenchReport::find(const std::string& variant, int tokens, int k) const {
  for (const auto& c : cells)
    if (c.variant == variant && c.new_tokens == tokens && c.samples == k) return &c;
  return nullptr;
}

const BenchCell& BenchReport::cell(const std::string& variant, int tokens, int k) const {
  if (const auto* c = find(variant, tokens, k)) return *c;
  throw Error(ErrorKind::NotFound, "no bench cell " + variant + " n=" + std::to_string(tokens) + " K=" + std::to_string(k));
}

BenchReport run_bench(const std::string& model_directory, const BenchParams& params,
                      const std::function<void(const std::string&)>& log) {
  if (params.new_tokens.empty() || params.samples.empty() || params.repetitions < 1 || params.probe_rows < 10)
    throw Error(ErrorKind::InvalidArgument, "bench: empty matrix, no repetitions or fewer than 10 probe rows");
  auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  const auto model = Model::open(model_directory);
  const auto& info = model.info();
  BenchReport report;
  report.model_name = info.config.name;
  report.model_directory = model_directory;  // as given: the report must not name this machine's paths
  report.cpu = cpu_model();
  report.cores = std::thread::hardware_concurrency();
  report.threads = threads();
  report.blas = blas_report();
  report.repetitions = params.repetitions;
  report.diffusion_steps = params.diffusion_steps;
  report.guide_weight = params.guide_weight;
  report.token_level_top_k = params.token_level_top_k;
  say("measuring matmul throughput");
  report.matmul_gflops = matmul_gflops();
  report.decoder_flops_per_token = 2.0 * static_cast<double>(info.parts.at("decoder").parameters);
  report.diffusion_flops_per_step =
      2.0 * static_cast<double>(info.parts.at("diffusion").parameters) * info.config.diffusion.splice_tokens;

  // DGLM's decoder input is [bos][prefix][soft prompts][continuation]: the longest continuation that keeps the
  // whole prefix bounds every method, so that all variants write the same lengths.
  const auto prefix_tokens = static_cast<int>(model.impl()->tokens(params.prefix, 1 << 20, true, nullptr).size());
  const int longest = max_new_tokens(info.config) - prefix_tokens;
  if (longest < 1) throw Error(ErrorKind::InvalidArgument, "bench: the prefix leaves no room in the decoder's context");
  std::vector<int> clamped;
  for (int n : params.new_tokens) {
    if (n > longest) clamped.push_back(n);
    const int used = std::min(n, longest);
    if (std::find(report.new_tokens.begin(), report.new_tokens.end(), used) == report.new_tokens.end())
      report.new_tokens.push_back(used);
  }
  if (!clamped.empty()) {
    std::string list;
    for (int n : clamped) list += (list.empty() ? "" : ", ") + std::to_string(n);
    report.clamp_note = list + " new tokens do not fit this model's context of " +
                        std::to_string(info.config.decoder.context) + " positions (bos + " +
                        std::to_string(prefix_tokens) + " prefix tokens + " +
                        std::to_string(info.config.prompt.prompt_tokens) + " soft prompts): measured at " +
                        std::to_string(longest) + " instead";
  }
  report.samples = params.samples;

  const auto variants = variants_for(info, params.guide_weight);
  for (const auto& v : variants) report.variants.push_back(v.name);
  struct Runs {
    std::vector<double> wall, encode, diffusion, prompt, decode, score, first, tokens, rate;
  };
  std::map<std::tuple<std::size_t, int, int>, Runs> runs;
  TokenLevelParams token_level{params.token_level_top_k};
  auto run = [&](const Variant& variant, int n, int k, std::uint64_t seed, int steps) {
    GenerateParams p;
    p.prefix = params.prefix;
    p.samples = k;
    p.max_new_tokens = n;
    p.steps = steps;
    p.guides = variant.guides;
    p.proposal_guidance = variant.proposal_guidance;
    p.contrast = variant.contrast;
    p.drafts = variant.drafts;
    p.seed = seed;
    return generate_with(variant.method, model, p, {}, token_level);
  };
  // One untimed call per variant first: lazy initialisation and first allocations are not what we measure.
  for (const auto& variant : variants)
    run(variant, report.new_tokens.front(), report.samples.front(), params.seed, params.diffusion_steps);
  say("warmed up");
  for (int rep = 0; rep < params.repetitions; ++rep) {
    for (int n : report.new_tokens)
      for (int k : report.samples)
        for (std::size_t v = 0; v < variants.size(); ++v) {
          const auto start = Clock::now();
          const auto result = run(variants[v], n, k, params.seed + static_cast<std::uint64_t>(rep), params.diffusion_steps);
          auto& r = runs[{v, n, k}];
          r.wall.push_back(seconds_since(start));
          const auto& t = result.times;
          r.encode.push_back(t.encode_s), r.diffusion.push_back(t.diffusion_s), r.prompt.push_back(t.prompt_s);
          r.decode.push_back(t.decode_s), r.score.push_back(t.score_s), r.first.push_back(t.first_token_s);
          double tokens = 0;
          for (const auto& c : result.candidates) tokens += static_cast<double>(c.tokens.size());
          r.tokens.push_back(tokens / k);
          r.rate.push_back(t.decode_s > 0 ? tokens / t.decode_s : 0);
        }
    say("repetition " + std::to_string(rep + 1) + " of " + std::to_string(params.repetitions) + " done");
  }
  for (const auto& [key, r] : runs) {
    BenchCell cell;
    cell.variant = variants[std::get<0>(key)].name;
    cell.new_tokens = std::get<1>(key);
    cell.samples = std::get<2>(key);
    cell.wall_s = median(r.wall);
    cell.stages = {median(r.encode), median(r.diffusion), median(r.prompt), median(r.decode), median(r.score),
                   median(r.first)};
    cell.tokens_per_sample = median(r.tokens);
    cell.decode_tokens_per_s = median(r.rate);
    report.cells.push_back(cell);
  }

  // Sampler steps are the lever on DGLM's fixed cost: the most guided DGLM variant (the last one before AR),
  // one decoded token, so that the proposal is all that is measured.
  const auto& guided = *std::prev(std::find_if(variants.begin(), variants.end(),
                                               [](const Variant& v) { return v.method != Method::Dglm; }));
  report.steps_variant = guided.name;
  report.steps_samples = report.samples[report.samples.size() / 2];
  for (int steps : params.step_counts) {
    std::vector<double> diffusion, first;
    for (int rep = 0; rep < params.repetitions; ++rep) {
      const auto times = run(guided, 1, report.steps_samples, params.seed + static_cast<std::uint64_t>(rep), steps).times;
      diffusion.push_back(times.diffusion_s);
      first.push_back(times.first_token_s);
    }
    report.steps_cells.push_back({steps, median(diffusion), median(first)});
  }
  say("steps measured");

  say("timing probe training on " + std::to_string(params.probe_rows) + " rows");
  report.probe_rows = params.probe_rows;
  report.probe_seconds_per_1k_rows = probe_seconds_per_1k_rows(model, params.probe_rows);
  report.peak_rss_mib = peak_rss_mib();
  return report;
}

namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const auto& c : cells) line += " " + c + " |";
  return line + "\n";
}

// The first `labels` columns are left-aligned, the numbers after them right-aligned.
std::string header(const std::vector<std::string>& cells, std::size_t labels = 1) {
  std::string rule = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) rule += i < labels ? "---|" : "--:|";
  return row(cells) + rule + "\n";
}

// The speed goals for guided DGLM, and where they are missed, what the time is spent on.
std::string goals_markdown(const BenchReport& r) {
  const auto guided = r.steps_variant.empty() ? std::string("DGLM") : r.steps_variant;
  const int k = 4;
  auto measured_at = [&](int goal) {  // the longest measured continuation not beyond the goal's
    int n = 0;
    for (int t : r.new_tokens)
      if (t <= goal) n = std::max(n, t);
    return n;
  };
  std::ostringstream md, causes;
  md << "## Goals\n\nThe goals for guided DGLM (" << guided << ", K = " << k << ", " << r.diffusion_steps
     << " sampler steps) against plain AR, from the same run.\n\n" << header({"goal", "measured", "met"});
  int previous = 0;
  for (const auto& [goal, ratio] : {std::pair{32, 1.3}, std::pair{128, 1.1}}) {
    const int n = measured_at(goal);
    if (n == previous) continue;
    previous = n;
    const auto* dglm = r.find(guided, n, k);
    const auto* ar = r.find("AR", n, k);
    if (!dglm || !ar) continue;
    const double measured = dglm->wall_s / ar->wall_s;
    md << row({"wall time at " + std::to_string(n) + " new tokens" +
                   (n == goal ? "" : " (longest measured up to " + std::to_string(goal) + ")") + " <= " + fixed(ratio, 1) + "x AR",
               fixed(measured, 2) + "x", measured <= ratio ? "yes" : "no"});
    if (measured <= ratio) continue;
    const double per_token = dglm->stages.decode_s / std::max(1.0, dglm->tokens_per_sample);
    const double allowed = (ratio - 1) * ar->wall_s;
    const double per_step = dglm->stages.diffusion_s / r.diffusion_steps;
    causes << "- At " << n << " tokens the proposal (diffusion) takes " << fixed(dglm->stages.diffusion_s, 3)
           << " s of the " << fixed(dglm->wall_s, 3) << " s call: as long as decoding "
           << fixed(dglm->stages.diffusion_s / per_token, 0) << " tokens for all K samples. Within " << fixed(ratio, 1)
           << "x AR it may take " << fixed(allowed, 3) << " s, about " << fixed(allowed / per_step, 0)
           << " guided sampler steps at the measured " << fixed(1000 * per_step, 1) << " ms per step.\n";
  }
  if (const auto* first = r.find(guided, r.new_tokens.front(), k)) {
    const double seconds = first->stages.first_token_s;
    md << row({"first token < 0.5 s", fixed(seconds, 3) + " s", seconds < 0.5 ? "yes" : "no"});
  }
  md << "\n";
  if (!causes.str().empty()) {
    md << "Where the time goes when a goal is missed:\n\n" << causes.str() << "- One denoiser pass costs 2 x "
       << "diffusion parameters x spliced positions = " << fixed(r.diffusion_flops_per_step / 1e6, 0)
       << " MFLOP per sample, the matmuls of " << fixed(r.diffusion_flops_per_step / r.decoder_flops_per_token, 0)
       << " decoded tokens, and a guided step adds a backward pass through it. The paper's ratio assumes a "
       << "decoder far larger than the diffusion network; here the decoder is the smaller of the two, and it "
       << "decodes at a few percent of the matmul bound (per-call overhead, see the throughput table), so the "
       << "proposal weighs more.\n\n";
  }
  return md.str();
}

}  // namespace

std::string bench_markdown(const BenchReport& r, const BenchProvenance& provenance) {
  std::ostringstream md;
  const std::string reproduce = "Reproduce: `" + provenance.command + "`\n\n";
  const std::string ar = "AR";
  md << "# Benchmarks\n\n"
     << "Measured by `dglm bench` on " << (provenance.date.empty() ? "an unrecorded date" : provenance.date)
     << ". Every number is the median of " << r.repetitions << " repetitions; the repetitions are interleaved "
     << "over the whole matrix so that the ratios compare runs made under the same load. Diffusion runs "
     << r.diffusion_steps << " sampler steps; guided variants use weight " << fixed(r.guide_weight, 1)
     << " per probe; the token-level baseline (FUDGE-style) re-weights the top " << r.token_level_top_k
     << " next tokens with the encoder and the probe at every step; the drafts variants decode every sample "
     << kBenchDrafts << " times and keep one, so their tokens per second count the kept tokens.\n\n## Machine\n\n"
     << header({"what", "value"}, 2) << row({"CPU", r.cpu}) << row({"cores", std::to_string(r.cores)})
     << row({"LibTorch threads", std::to_string(r.threads)})
     << row({"BLAS", r.blas.library_path.empty() ? "not found" : r.blas.library_path})
     << row({"fp32 matmul (measured)", fixed(r.matmul_gflops, 1) + " GFLOP/s"})
     << row({"commit", provenance.commit.empty() ? "unknown" : provenance.commit})
     << row({"model", r.model_name + " (" + r.model_directory + ")"}) << "\n"
     << reproduce;

  md << "## Wall time per call (seconds) and ratios to plain AR\n\n";
  if (!r.clamp_note.empty()) md << "Note: " << r.clamp_note << ".\n\n";
  std::vector<std::string> columns{"new tokens", "K"};
  for (const auto& v : r.variants) columns.push_back(v);
  for (const auto& v : r.variants)
    if (v != ar) columns.push_back(v + " / AR");
  md << header(columns, 2);
  for (int n : r.new_tokens)
    for (int k : r.samples) {
      std::vector<std::string> cells{std::to_string(n), std::to_string(k)};
      const double base = r.cell(ar, n, k).wall_s;
      for (const auto& v : r.variants) cells.push_back(fixed(r.cell(v, n, k).wall_s, 3));
      for (const auto& v : r.variants)
        if (v != ar) cells.push_back(fixed(r.cell(v, n, k).wall_s / base, 2) + "x");
      md << row(cells);
    }
  md << "\n" << reproduce;

  md << goals_markdown(r) << reproduce;

  if (!r.steps_cells.empty()) {
    md << "## Sampler steps: the cost of the proposal\n\n" << r.steps_variant << ", K = " << r.steps_samples
       << ", one new token, so that the proposal is what is timed. Which step count keeps quality is measured in "
       << "docs/EVALUATION.md.\n\n"
       << header({"steps", "diffusion (s)", "per step (ms)", "first token (s)"});
    for (const auto& c : r.steps_cells)
      md << row({std::to_string(c.steps), fixed(c.diffusion_s, 3), fixed(1000 * c.diffusion_s / c.steps, 1),
                 fixed(c.first_token_s, 3)});
    md << "\n" << reproduce;
  }

  md << "## Time to first token (seconds)\n\nFrom the call to the first streamed token, at " << r.new_tokens.front()
     << " new tokens.\n\n";
  std::vector<std::string> by_k{"variant"};
  for (int k : r.samples) by_k.push_back("K=" + std::to_string(k));
  md << header(by_k);
  for (const auto& v : r.variants) {
    std::vector<std::string> cells{v};
    for (int k : r.samples) cells.push_back(fixed(r.cell(v, r.new_tokens.front(), k).stages.first_token_s, 3));
    md << row(cells);
  }
  md << "\n" << reproduce;

  // The middle of the matrix: representative without being dominated by either end.
  const int n_mid = r.new_tokens[r.new_tokens.size() / 2], k_mid = r.samples[r.samples.size() / 2];
  md << "## Stage breakdown (seconds) at " << n_mid << " new tokens, K = " << k_mid << "\n\n"
     << "Encode: prefix embedding; diffusion: proposal sampling with guidance; prompt: soft prompts; decode: the "
     << "token loop (for the token-level baseline it includes the encoder and probe passes of every step); score: "
     << "re-encoding the continuations for the probe scores.\n\n"
     << header({"variant", "total", "encode", "diffusion", "prompt", "decode", "score", "tokens/sample"});
  for (const auto& v : r.variants) {
    const auto& c = r.cell(v, n_mid, k_mid);
    md << row({v, fixed(c.wall_s, 3), fixed(c.stages.encode_s, 3), fixed(c.stages.diffusion_s, 3),
               fixed(c.stages.prompt_s, 3), fixed(c.stages.decode_s, 3), fixed(c.stages.score_s, 3),
               fixed(c.tokens_per_sample, 1)});
  }
  md << "\n" << reproduce;

  const int n_max = r.new_tokens.back();
  md << "## Decoding throughput against the matmul bound, " << n_max << " new tokens\n\n"
     << "Tokens/s counts the tokens of all K samples over the decode stage. The bound is the measured fp32 matmul "
     << "rate divided by about 2 x decoder parameters = " << fixed(r.decoder_flops_per_token / 1e6, 2)
     << " MFLOP per token; a small decoder at small batch is bound by per-call overhead, not by the matmuls.\n\n"
     << header({"variant", "K", "tokens/s", "GFLOP/s", "share of matmul bound"}, 2);
  for (const auto& v : r.variants)
    for (int k : r.samples) {
      const auto& c = r.cell(v, n_max, k);
      const double gflops = c.decode_tokens_per_s * r.decoder_flops_per_token / 1e9;
      md << row({v, std::to_string(k), fixed(c.decode_tokens_per_s, 0), fixed(gflops, 2),
                 fixed(100 * gflops / r.matmul_gflops, 1) + "%"});
    }
  md << "\n" << reproduce;

  md << "## Memory and probe training\n\n" << header({"what", "value"}, 2)
     << row({"peak resident memory (getrusage, whole run)", fixed(r.peak_rss_mib, 0) + " MiB"})
     << row({"probe training (embedding + L-BFGS, " + std::to_string(r.probe_rows) + " rows)",
             fixed(r.probe_seconds_per_1k_rows, 2) + " s per 1k rows"})
     << "\n" << reproduce;
  return md.str();
}

}  // namespace dglm
