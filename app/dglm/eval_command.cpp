// SPDX-License-Identifier: GPL-3.0-or-later
#include "commands.h"

#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "dglm/error.h"
#include "dglm/evaluate.h"
#include "dglm/fileio.h"

namespace {

struct EvalOptionsCli {
  std::string model_dir, scorer_dir, prompts_path, corpus_path, save_prompts, output, csv, texts;
  int count = 40, prefix_tokens = 32, continuation_tokens = 32;
  std::vector<std::string> settings, judges, lexicon_judges;
  dglm::GenerateParams defaults;
  dglm::EvalOptions eval;
};

std::string fixed(double x, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
  return buffer;
}

std::string table(const std::vector<dglm::EvalRow>& rows, const std::vector<dglm::EvalSetting>& settings) {
  std::set<std::string> judges;  // every row's: AR rows have no proposal to judge
  for (const auto& row : rows)
    for (const auto& [judge, classes] : row.judge_classes) judges.insert(judge);
  std::ostringstream out;
  out << "| setting | method | texts | scorer perplexity | Dist-3 | Div | adherence (chance) | MAUVE |";
  for (const auto& judge : judges) out << " " << judge << " |";
  out << "\n|---|---|--:|--:|--:|--:|--:|--:|";
  for (std::size_t i = 0; i < judges.size(); ++i) out << "---|";
  out << "\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    out << "| " << row.label << " | " << dglm::to_string(settings[r].method) << " | " << row.continuations.size() << " | "
        << fixed(row.scorer_perplexity, 1) << " | " << fixed(row.dist3, 3) << " | " << fixed(row.div, 3) << " | "
        << (row.adherence > -2 ? fixed(row.adherence, 3) : "-")
        << (row.adherence_chance > -2 ? " (" + fixed(row.adherence_chance, 3) + ")" : "") << " | "
        << (row.mauve >= 0 ? fixed(row.mauve, 3) + " ± " + fixed(row.mauve_se, 3) : "-") << " |";
    for (const auto& judge : judges) {
      const auto rates = row.judged.find(judge);
      if (rates == row.judged.end()) {
        out << " - |";
        continue;
      }
      const auto& classes = row.judge_classes.at(judge);
      for (std::size_t c = 0; c < rates->second.size(); ++c)
        out << (c ? ", " : " ") << classes[c] << " " << fixed(rates->second[c], 2);
      out << " |";
    }
    out << "\n";
  }
  return out.str();
}

std::string examples(const std::vector<dglm::EvalRow>& rows, const std::string& prefix) {
  std::ostringstream out;
  out << "\nFirst prompt: \"" << prefix << "\"\n";
  for (const auto& row : rows) {
    out << "\n**" << row.label << "**\n";
    int shown = 0;
    for (const auto& continuation : row.continuations)
      if (continuation.prompt == 0 && shown++ < 3) out << "- " << continuation.text << "\n";
  }
  return out.str();
}

int run_eval(const EvalOptionsCli& o, const std::string& command_line) {
  auto model = dglm::Model::open(o.model_dir);
  const auto scorer = dglm::Model::open(o.scorer_dir);
  auto options = o.eval;
  for (const auto& [specs, flag, judges] : {std::tuple{&o.judges, "--judge", &options.judges},
                                            std::tuple{&o.lexicon_judges, "--lexicon-judge", &options.lexicon_judges}}) {
    for (const auto& spec : *specs) {
      const auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        throw dglm::Error(dglm::ErrorKind::InvalidArgument, "expected NAME=PATH, got '" + spec + "'",
                          dglm::Location{{}, 0, 0, flag});
      (*judges)[spec.substr(0, eq)] = spec.substr(eq + 1);
    }
  }

  const auto prompts = o.prompts_path.empty()
                           ? dglm::make_eval_prompts(model, o.corpus_path, o.count, o.prefix_tokens,
                                                     o.continuation_tokens, options.seed)
                           : dglm::read_eval_prompts(o.prompts_path);
  if (!o.save_prompts.empty()) dglm::write_eval_prompts(o.save_prompts, prompts);

  std::vector<dglm::EvalSetting> settings;
  for (const auto& spec : o.settings.empty() ? std::vector<std::string>{"dglm"} : o.settings)
    settings.push_back(dglm::parse_eval_setting(spec, o.defaults));
  // Both reports are rewritten after every setting, so that a long run stopped midway keeps what it measured;
  // standard output gets them once, at the end.
  std::vector<dglm::EvalRow> rows;
  auto write_reports = [&](bool finished) {
    const auto report = "Command: `" + command_line + "`\n\nScorer (perplexity" +
                        std::string(options.mauve ? ", MAUVE features" : "") + "): `" + o.scorer_dir + "`\n\n" +
                        table(rows, settings) + examples(rows, prompts.front().prefix);
    for (const auto& [path, text] : {std::pair{o.output, report}, std::pair{o.csv, dglm::eval_csv(settings, rows)},
                                     std::pair{o.texts, o.texts.empty() ? std::string() : dglm::eval_texts_jsonl(rows)}}) {
      if (path == "-" && finished) std::fputs(text.c_str(), stdout);
      else if (!path.empty() && path != "-") dglm::write_file_atomic(path, text);
    }
  };
  for (const auto& setting : settings) {
    std::fprintf(stderr, "evaluating %s on %zu prompts x %d samples\n", setting.label.c_str(), prompts.size(),
                 setting.params.samples);
    rows.push_back(dglm::evaluate_setting(model, scorer, prompts, setting, options));
    write_reports(rows.size() == settings.size());
  }
  return 0;
}

}  // namespace

Subcommand add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptionsCli>();
  o->output = "-";
  o->defaults.samples = 25;
  o->defaults.max_new_tokens = 20;
  auto* cmd = app.add_subcommand("eval", "Measure generation settings on held-out prompts (fluency, diversity, "
                                         "adherence, MAUVE, judged attributes); writes a Markdown table and, "
                                         "with --csv, a CSV");
  cmd->add_option("MODEL_DIR", o->model_dir, "model directory")->required();
  cmd->add_option("--scorer", o->scorer_dir, "model directory whose decoder scores perplexity (and whose encoder "
                                             "gives MAUVE features): use one independent of MODEL_DIR")->required();
  auto* prompts = cmd->add_option("--prompts", o->prompts_path, "held-out prompts, JSON lines {prefix, continuation}");
  auto* corpus = cmd->add_option("--make-prompts", o->corpus_path,
                                 "make prompts from a held-out corpus file (one document per line)");
  prompts->excludes(corpus);
  corpus->excludes(prompts);
  cmd->add_option("--count", o->count, "prompts to make")->capture_default_str();
  cmd->add_option("--prefix-tokens", o->prefix_tokens, "tokens of each made prefix")->capture_default_str();
  cmd->add_option("--continuation-tokens", o->continuation_tokens, "tokens of each reference")->capture_default_str();
  cmd->add_option("--save-prompts", o->save_prompts, "write the prompts used as JSON lines");
  cmd->add_option("--setting", o->settings,
                  "LABEL;method=dglm|ar|fudge;sigma2=S;proposal_guidance=G;contrast=unplanned|opposite;drafts=N;cfg=W;steps=T;"
                  "guide=PROBE=WEIGHT[:CLASS];temperature=T;top_p=P;plans=FILE.csv:LABEL "
                  "(repeatable; default: one plain DGLM setting; plans: write from the embeddings of the CSV's texts "
                  "of that label instead of diffusion samples)");
  cmd->add_option("--judge", o->judges, "NAME=PROBE_PATH_WITHOUT_EXTENSION: an independent classifier (repeatable)");
  cmd->add_option("--lexicon-judge", o->lexicon_judges,
                  "NAME=LEXICON.json: a judge that sums word scores (sentiment lexicon, profanity list; repeatable)");
  cmd->add_option("--samples", o->defaults.samples, "samples per prompt")->capture_default_str();
  cmd->add_option("--tokens", o->defaults.max_new_tokens, "new tokens per sample")->capture_default_str();
  cmd->add_option("--steps", o->defaults.steps, "diffusion steps")->capture_default_str();
  cmd->add_option("--seed", o->eval.seed, "seed of prompt i is SEED + i")->capture_default_str();
  cmd->add_flag("--mauve", o->eval.mauve, "compute MAUVE against the references");
  cmd->add_option("--output,-o", o->output, "Markdown report file, '-' for standard output")
      ->capture_default_str();
  cmd->add_option("--csv", o->csv, "also a CSV file, one row per setting: its parameters and metrics ('-': standard "
                                   "output); plot columns of it with dglm-plot");
  cmd->add_option("--texts", o->texts, "also every continuation as JSON lines {setting, prompt, text, "
                                       "scorer_perplexity, adherence} ('-': standard output)");
  return {cmd, [o] {
            // The report names the command that reproduces it.
            std::string command = "dglm eval " + o->model_dir + " --scorer " + o->scorer_dir;
            for (const auto& s : o->settings) command += " --setting '" + s + "'";
            for (const auto& j : o->judges) command += " --judge " + j;
            for (const auto& j : o->lexicon_judges) command += " --lexicon-judge " + j;
            command += " --samples " + std::to_string(o->defaults.samples) + " --tokens " +
                       std::to_string(o->defaults.max_new_tokens) + " --steps " + std::to_string(o->defaults.steps) +
                       " --seed " + std::to_string(o->eval.seed) + (o->eval.mauve ? " --mauve" : "") +
                       (o->prompts_path.empty()
                                 ? " --make-prompts " + o->corpus_path + " --count " + std::to_string(o->count) +
                                       " --prefix-tokens " + std::to_string(o->prefix_tokens) +
                                       " --continuation-tokens " + std::to_string(o->continuation_tokens)
                                 : " --prompts " + o->prompts_path);
            return run_eval(*o, command);
          }};
}
