// SPDX-License-Identifier: GPL-3.0-or-later
// Measuring generation: held-out prompts, settings to compare, and per-setting fluency (perplexity under an
// independent scorer), diversity (Dist-3, Div), proposal adherence, MAUVE and attribute success judged by
// classifiers that share no training data with the probes that steer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dglm/baselines.h"
#include "dglm/generator.h"

namespace dglm {

struct EvalPrompt {
  std::string prefix;
  std::string reference;  // the human continuation
};

// Prompts from a corpus file (one document per line, blank lines between): for `count` documents long enough,
// the first prefix_tokens tokens and the next continuation_tokens. Deterministic for a seed.
std::vector<EvalPrompt> make_eval_prompts(const Model& model, const std::string& corpus_path, int count,
                                          int prefix_tokens, int continuation_tokens, std::uint64_t seed);
// JSON lines {"prefix": ..., "continuation": ...}; errors name the file and line.
std::vector<EvalPrompt> read_eval_prompts(const std::string& path);
void write_eval_prompts(const std::string& path, const std::vector<EvalPrompt>& prompts);

// Texts whose embeddings stand in for the diffusion's proposals: how far the decoder writes what a plan says
// when the plan is the meaning of real text of a known class, not a steered sample.
struct PlanTexts {
  std::string csv;    // a CSV file with "text" and "label" columns (a probe's data); empty: plans are sampled
  std::string label;  // the rows whose label this is
};

struct EvalSetting {
  std::string label;
  Method method = Method::Dglm;
  GenerateParams params;  // prefix and seed are set per prompt
  PlanTexts plans;
};

// "LABEL;method=dglm;sigma2=0.05;proposal_guidance=1;contrast=unplanned;drafts=1;cfg=1;steps=10;guide=sentiment=+4;
//  guide=topic=2:science;temperature=1;top_p=0.9;plans=FILE.csv:LABEL"
// Throws Error(InvalidArgument) naming the key.
EvalSetting parse_eval_setting(const std::string& spec, const GenerateParams& defaults);

// One continuation as it was measured.
struct EvalText {
  std::size_t prompt = 0;  // index into the prompts
  std::string text;
  double scorer_perplexity = 0;  // <= 0: not scored (no token to score)
  double adherence = -2;         // cosine(E(text), proposal); -2 when the method has no proposal
};

struct EvalRow {
  std::string label;
  double scorer_perplexity = 0;  // mean over texts of the continuation's perplexity under the scorer's decoder
  double dist3 = 0;              // per prompt, averaged
  double div = 0;                // pooled over all texts
  double adherence = -2;         // mean cosine(E(text), proposal); -2 when the method has no proposal
  double adherence_chance = -2;  // chance_adherence (metrics.h); -2 without a proposal or with one prompt
  double mauve = -1, mauve_se = 0;  // -1 when not computed
  // judge -> fraction of texts whose argmax is each class; for DGLM also "PROBE_JUDGE@proposal", the fraction of
  // proposals: steering that reaches the proposal but not the text shows as the gap between the two.
  std::map<std::string, std::vector<double>> judged;
  std::map<std::string, std::vector<std::string>> judge_classes;
  std::vector<EvalText> continuations;  // every text, prompt by prompt (texts of a prompt share its seed)
};

struct EvalOptions {
  std::map<std::string, std::string> judges;  // name -> probe path without extension (loaded into the model)
  std::map<std::string, std::string> lexicon_judges;  // name -> lexicon file (LexiconJudge), judging the text
  bool mauve = false;                         // needs >= 10 prompts x samples texts
  std::uint64_t seed = 0;
};

// Generates params.samples continuations for every prompt with the setting and measures them. With plan texts
// (DGLM, no guides) each continuation is written (Generator::rewrite) from the embedding of the next row of the
// label, in file order, re-noised at sigma^2, instead of from a diffusion sample. The scorer is
// another model directory's decoder and encoder (perplexity and MAUVE features); judges are loaded into
// `model` under their names, lexicon judges read the continuations' words. progress(fraction) may return false to cancel (Error(Cancelled)).
EvalRow evaluate_setting(Model& model, const Model& scorer, const std::vector<EvalPrompt>& prompts,
                         const EvalSetting& setting, const EvalOptions& options,
                         const std::function<bool(float)>& progress = {});

// rows[i] measured settings[i] (rows may be fewer: a run still going). One CSV record per row: its setting's
// parameters (label, method, sigma2, proposal_guidance, contrast, drafts, cfg, steps, temperature, top_p; guides: the
// steered "probe[:class]" joined by " + "; guide_weight: the weight when there is exactly one guide; plans:
// "FILE.csv:LABEL" or empty;
// "guide:PROBE[:CLASS]": the weight of each guide of any setting), then the metrics (texts, scorer_perplexity,
// dist3, div, adherence, adherence_chance, mauve, mauve_se; "judge-NAME:CLASS": the fraction judged that class).
// Cells not measured or not set are empty, so that plotting a column over a sweep skips the rows outside it.
std::string eval_csv(const std::vector<EvalSetting>& settings, const std::vector<EvalRow>& rows);

// Every continuation of the rows as JSON lines {"setting", "prompt", "text", "scorer_perplexity", "adherence"}
// (adherence null without a proposal): for reading a row's texts, or for statistics across rows that the report's
// means hide, such as differences paired by prompt between settings that share seeds.
std::string eval_texts_jsonl(const std::vector<EvalRow>& rows);

}  // namespace dglm
