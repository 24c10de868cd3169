// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/evaluate.h"

#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dglm/csv.h"
#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/lexicon_judge.h"
#include "dglm/metrics.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace {

using nlohmann::json;

std::vector<std::string> corpus_documents(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::NotFound, "cannot open the corpus", Location{path});
  std::vector<std::string> documents;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) documents.push_back(line);
  return documents;
}

// Perplexity of `continuation` after `prefix` under the scorer's decoder alone: [bos][prefix][continuation].
double scorer_perplexity(Model::Impl& scorer, const std::string& prefix, const std::string& continuation) {
  auto cont = scorer.tokenizer->encode(continuation);
  if (cont.empty()) return 0;
  const auto room = static_cast<std::size_t>(scorer.info.config.decoder.context) - 1;
  cont.resize(std::min(cont.size(), room));
  const auto prefix_ids = scorer.tokens(prefix, room - cont.size(), /*keep_end=*/true, nullptr);
  std::vector<int64_t> ids{scorer.tokenizer->bos_id()};
  ids.insert(ids.end(), prefix_ids.begin(), prefix_ids.end());
  ids.insert(ids.end(), cont.begin(), cont.end());
  const auto input = torch::tensor(ids).unsqueeze(0).to(scorer.device);
  const auto logprobs = torch::log_softmax(scorer.decoder->forward(scorer.decoder->embed_tokens(input)), -1)[0];
  // Position i predicts token i + 1; the continuation starts after bos and the prefix.
  const auto first = static_cast<int64_t>(1 + prefix_ids.size());
  std::vector<float> token_logprobs;
  for (int64_t i = first; i < static_cast<int64_t>(ids.size()); ++i)
    token_logprobs.push_back(logprobs[i - 1][ids[static_cast<std::size_t>(i)]].item<float>());
  return perplexity(token_logprobs);
}

// Unit embeddings [N, D] of the texts, on the CPU, in batches of 64.
torch::Tensor embed_all(Model::Impl& model, const std::vector<std::string>& texts) {
  std::vector<torch::Tensor> rows;
  for (std::size_t start = 0; start < texts.size(); start += 64)
    rows.push_back(model.embed({texts.begin() + static_cast<std::ptrdiff_t>(start),
                                texts.begin() + static_cast<std::ptrdiff_t>(std::min(start + 64, texts.size()))},
                               false).to(torch::kCPU, torch::kFloat));
  return torch::cat(rows, 0).contiguous();
}

FeatureMatrix features(Model::Impl& model, const std::vector<std::string>& texts) {
  FeatureMatrix m;
  const auto all = embed_all(model, texts);
  m.rows = static_cast<std::size_t>(all.size(0));
  m.cols = static_cast<std::size_t>(all.size(1));
  m.values.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
  return m;
}

// The unit embeddings [N, D] of the plan texts, in file order.
torch::Tensor plan_embeddings(Model::Impl& model, const PlanTexts& plans) {
  const auto csv = read_labelled_csv(plans.csv, "text", "label");
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < csv.data.texts.size(); ++i)
    if (csv.data.labels[i] == plans.label) texts.push_back(csv.data.texts[i]);
  if (texts.empty())
    throw Error(ErrorKind::InvalidArgument, "no row is labelled '" + plans.label + "'",
                Location{plans.csv, 0, 0, "label"});
  return embed_all(model, texts);
}

float parse_number(const std::string& key, const std::string& value) {
  try {
    std::size_t used = 0;
    const float x = std::stof(value, &used);
    if (used == value.size()) return x;
  } catch (const std::exception&) {
  }
  throw Error(ErrorKind::InvalidArgument, "'" + value + "' is not a number", Location{{}, 0, 0, key});
}

PlanContrast plan_contrast_from_string(const std::string& key, const std::string& value) {
  for (auto contrast : {PlanContrast::Unplanned, PlanContrast::Opposite})
    if (value == to_string(contrast)) return contrast;
  throw Error(ErrorKind::InvalidArgument, "'" + value + "' is not unplanned or opposite", Location{{}, 0, 0, key});
}

std::string csv_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", x);
  return buffer;
}

std::string guide_name(const Guide& guide) {
  return guide.target_class.empty() ? guide.probe : guide.probe + ":" + guide.target_class;
}

// The fraction of the row's texts that `judge` judged to be `class_name`; empty when not judged.
std::string judged_fraction(const EvalRow& row, const std::string& judge, const std::string& class_name) {
  const auto classes = row.judge_classes.find(judge);
  const auto rates = row.judged.find(judge);
  if (classes == row.judge_classes.end() || rates == row.judged.end()) return "";
  const auto& names = classes->second;
  const auto index = static_cast<std::size_t>(std::find(names.begin(), names.end(), class_name) - names.begin());
  return index < rates->second.size() ? csv_number(rates->second[index]) : "";
}

template <typename T>
void append_new(std::vector<T>& items, const T& item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
}

}  // namespace

std::vector<EvalPrompt> make_eval_prompts(const Model& model, const std::string& corpus_path, int count,
                                          int prefix_tokens, int continuation_tokens, std::uint64_t seed) {
  auto& m = *model.impl();
  auto documents = corpus_documents(corpus_path);
  std::shuffle(documents.begin(), documents.end(), std::mt19937_64(seed));
  std::vector<EvalPrompt> prompts;
  const auto needed = static_cast<std::size_t>(prefix_tokens + continuation_tokens);
  for (const auto& document : documents) {
    if (static_cast<int>(prompts.size()) == count) break;
    const auto ids = m.tokenizer->encode(document);
    if (ids.size() < needed) continue;
    const auto split = ids.begin() + prefix_tokens;
    prompts.push_back({m.tokenizer->decode({ids.begin(), split}),
                       m.tokenizer->decode({split, split + continuation_tokens})});
  }
  if (static_cast<int>(prompts.size()) < count)
    throw Error(ErrorKind::InvalidArgument, "only " + std::to_string(prompts.size()) + " documents hold " +
                                                std::to_string(needed) + " tokens", Location{corpus_path});
  return prompts;
}

std::vector<EvalPrompt> read_eval_prompts(const std::string& path) {
  std::istringstream lines(read_file_text(path));
  std::vector<EvalPrompt> prompts;
  long number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const auto j = json::parse(line);
      prompts.push_back({j.at("prefix").get<std::string>(), j.value("continuation", std::string())});
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Corrupt, std::string("expected {\"prefix\": ..., \"continuation\": ...}: ") + e.what(),
                  Location{path, number});
    }
  }
  if (prompts.empty()) throw Error(ErrorKind::InvalidArgument, "no prompts", Location{path});
  return prompts;
}

void write_eval_prompts(const std::string& path, const std::vector<EvalPrompt>& prompts) {
  std::string text;
  for (const auto& p : prompts) text += json{{"prefix", p.prefix}, {"continuation", p.reference}}.dump() + "\n";
  write_file_atomic(path, text);
}

EvalSetting parse_eval_setting(const std::string& spec, const GenerateParams& defaults) {
  EvalSetting setting;
  setting.params = defaults;
  std::istringstream parts(spec);
  std::getline(parts, setting.label, ';');
  if (setting.label.empty() || setting.label.find('=') != std::string::npos)
    throw Error(ErrorKind::InvalidArgument, "a setting needs a label first: LABEL;key=value;... (got '" + spec + "')");
  for (std::string part; std::getline(parts, part, ';');) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw Error(ErrorKind::InvalidArgument, "expected key=value, got '" + part + "'");
    const auto key = part.substr(0, eq), value = part.substr(eq + 1);
    auto& p = setting.params;
    if (key == "method") setting.method = method_from_string(value);
    else if (key == "sigma2") p.sigma2 = parse_number(key, value);
    else if (key == "proposal_guidance") p.proposal_guidance = parse_number(key, value);
    else if (key == "contrast") p.contrast = plan_contrast_from_string(key, value);
    else if (key == "drafts") p.drafts = static_cast<int>(parse_number(key, value));
    else if (key == "cfg") p.cfg = parse_number(key, value);
    else if (key == "steps") p.steps = static_cast<int>(parse_number(key, value));
    else if (key == "temperature") p.decoding.temperature = parse_number(key, value);
    else if (key == "top_p") p.decoding.top_p = parse_number(key, value);
    else if (key == "plans") {
      // FILE:LABEL; the last colon separates them, so that a path may hold colons.
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
        throw Error(ErrorKind::InvalidArgument, "expected FILE.csv:LABEL, got '" + value + "'", Location{{}, 0, 0, key});
      setting.plans = {value.substr(0, colon), value.substr(colon + 1)};
    } else if (key == "guide") {
      // PROBE=WEIGHT[:CLASS]
      const auto weight_at = value.find('=');
      if (weight_at == std::string::npos)
        throw Error(ErrorKind::InvalidArgument, "expected PROBE=WEIGHT[:CLASS], got '" + value + "'", Location{{}, 0, 0, key});
      const auto rest = value.substr(weight_at + 1);
      const auto colon = rest.find(':');
      p.guides.push_back({value.substr(0, weight_at), parse_number(key, rest.substr(0, colon)),
                          colon == std::string::npos ? std::string() : rest.substr(colon + 1)});
    } else {
      throw Error(ErrorKind::InvalidArgument,
                  "unknown key (method, sigma2, proposal_guidance, contrast, drafts, cfg, steps, temperature, top_p, "
                  "guide, plans)",
                  Location{{}, 0, 0, key});
    }
  }
  if (!setting.plans.csv.empty() && (setting.method != Method::Dglm || !setting.params.guides.empty()))
    throw Error(ErrorKind::InvalidArgument, "plan texts stand in for DGLM's proposals: no guide, no other method",
                Location{{}, 0, 0, "plans"});
  return setting;
}

EvalRow evaluate_setting(Model& model, const Model& scorer, const std::vector<EvalPrompt>& prompts,
                         const EvalSetting& setting, const EvalOptions& options,
                         const std::function<bool(float)>& progress) {
  for (const auto& [name, path] : options.judges) {
    model.add_probe(path);
    if (!model.impl()->probes.count(name))
      throw Error(ErrorKind::InvalidArgument, "the judge file holds a probe with another name",
                  Location{path + ".json", 0, 0, "name"});
  }
  std::map<std::string, LexiconJudge> lexicons;
  for (const auto& [name, path] : options.lexicon_judges) {
    if (options.judges.count(name))
      throw Error(ErrorKind::InvalidArgument, "lexicon judge '" + name + "' has the name of a probe judge");
    lexicons.emplace(name, LexiconJudge::load(path));
  }
  auto& m = *model.impl();
  auto& s = *scorer.impl();
  torch::NoGradGuard no_grad;
  EvalRow row;
  row.label = setting.label;
  std::vector<std::string> references;
  std::vector<double> dist3;
  FeatureMatrix proposals;  // DGLM: each text's proposal, rows in the order of all_texts
  std::vector<std::size_t> prompt_of;
  std::map<std::string, std::vector<std::size_t>> votes;  // judge -> texts per class
  std::map<std::string, std::vector<std::string>> classes_of;
  auto vote = [&](const std::string& judge, const std::vector<std::string>& classes, std::size_t judged_class) {
    auto& counts = votes[judge];
    counts.resize(classes.size());
    ++counts[judged_class];
    classes_of[judge] = classes;
  };
  auto argmax = [](const auto& scores) {
    return static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  };
  const auto plans = setting.plans.csv.empty() ? torch::Tensor() : plan_embeddings(m, setting.plans);
  std::size_t next_plan = 0;
  Generator generator(model);
  // Prompt i's continuations: from the setting, or one from each of the next plan texts (cycling through them).
  auto write = [&](std::size_t i) {
    auto params = setting.params;
    params.prefix = prompts[i].prefix;
    params.seed = options.seed + i;
    if (!plans.defined()) return generate_with(setting.method, model, params).candidates;
    std::vector<Candidate> candidates;
    RewriteParams rewrite;
    static_cast<WriteParams&>(rewrite) = params;
    rewrite.samples = 1;
    for (int k = 0; k < params.samples; ++k, ++next_plan) {
      const auto plan = plans[static_cast<int64_t>(next_plan % static_cast<std::size_t>(plans.size(0)))];
      rewrite.proposal.assign(plan.data_ptr<float>(), plan.data_ptr<float>() + plan.numel());
      rewrite.seed = params.seed + static_cast<std::uint64_t>(k) * prompts.size();
      candidates.push_back(generator.rewrite(rewrite).candidates.at(0));
    }
    return candidates;
  };
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (progress && !progress(static_cast<float>(i) / static_cast<float>(prompts.size())))
      throw Error(ErrorKind::Cancelled, "evaluation cancelled");
    const auto candidates = write(i);
    std::vector<std::string> texts;
    for (const auto& c : candidates) {
      texts.push_back(c.text);
      row.continuations.push_back(
          {i, c.text, scorer_perplexity(s, prompts[i].prefix, c.text), c.adherence.value_or(-2.0)});
      for (const auto& [judge, scores] : c.probe_scores)
        if (options.judges.count(judge)) vote(judge, m.probes.at(judge).classes, argmax(scores));
      // What the probe judges read in the proposal, to compare with what they read in the text.
      for (const auto& [judge, scores] : c.plan_scores)
        if (options.judges.count(judge)) vote(judge + "@proposal", m.probes.at(judge).classes, argmax(scores));
      for (const auto& [judge, lexicon] : lexicons) vote(judge, lexicon.classes(), lexicon.classify(c.text));
      if (c.adherence) {
        proposals.values.insert(proposals.values.end(), c.proposal.begin(), c.proposal.end());
        proposals.cols = c.proposal.size();
        ++proposals.rows;
        prompt_of.push_back(i);
      }
    }
    dist3.push_back(distinct_n(texts, 3));
    references.push_back(prompts[i].reference);
  }
  auto mean = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  std::vector<std::string> all_texts;
  std::vector<double> scored, adherences;  // a text without tokens has no perplexity; AR has no adherence
  for (const auto& c : row.continuations) {
    all_texts.push_back(c.text);
    if (c.scorer_perplexity > 0) scored.push_back(c.scorer_perplexity);
    if (c.adherence > -2) adherences.push_back(c.adherence);
  }
  row.scorer_perplexity = mean(scored);
  row.dist3 = mean(dist3);
  try {
    row.div = diversity(all_texts);
  } catch (const Error&) {
    row.div = 0;  // no text reached four words
  }
  if (!adherences.empty()) {
    row.adherence = mean(adherences);
    if (prompts.size() > 1) row.adherence_chance = chance_adherence(features(m, all_texts), proposals, prompt_of);
  }
  for (const auto& [judge, counts] : votes) {
    const double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::size_t{0}));
    for (auto c : counts) row.judged[judge].push_back(static_cast<double>(c) / total);
    row.judge_classes[judge] = classes_of.at(judge);
  }
  if (options.mauve) {
    const auto result = mauve(features(s, all_texts), features(s, references));
    row.mauve = result.mauve;
    row.mauve_se = result.standard_error;
  }
  return row;
}

std::string eval_csv(const std::vector<EvalSetting>& settings, const std::vector<EvalRow>& rows) {
  std::vector<std::string> guides;  // every setting's, so that the header stays the same while rows arrive
  for (const auto& setting : settings)
    for (const auto& guide : setting.params.guides) append_new(guides, guide_name(guide));
  std::vector<std::pair<std::string, std::string>> judge_classes;  // (judge, class) in the judges' order
  for (const auto& row : rows)
    for (const auto& [judge, classes] : row.judge_classes)
      for (const auto& c : classes) append_new(judge_classes, {judge, c});

  std::vector<std::string> header{"label", "method", "sigma2", "proposal_guidance", "contrast", "drafts", "cfg",
                                  "steps", "temperature", "top_p", "guides", "guide_weight", "plans"};
  for (const auto& guide : guides) header.push_back("guide:" + guide);
  header.insert(header.end(),
                {"texts", "scorer_perplexity", "dist3", "div", "adherence", "adherence_chance", "mauve", "mauve_se"});
  for (const auto& [judge, c] : judge_classes) header.push_back("judge-" + judge + ":" + c);
  std::string out = csv_record(header);

  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& setting = settings.at(r);
    const auto& p = setting.params;
    const auto& row = rows[r];
    std::string names;
    for (const auto& guide : p.guides) names += (names.empty() ? "" : " + ") + guide_name(guide);
    std::vector<std::string> fields{row.label, to_string(setting.method), csv_number(p.sigma2),
                                    csv_number(p.proposal_guidance), to_string(p.contrast),
                                    std::to_string(p.drafts), csv_number(p.cfg),
                                    std::to_string(p.steps), csv_number(p.decoding.temperature),
                                    csv_number(p.decoding.top_p), names,
                                    p.guides.size() == 1 ? csv_number(p.guides[0].weight) : "",
                                    setting.plans.csv.empty() ? "" : setting.plans.csv + ":" + setting.plans.label};
    for (const auto& name : guides) {
      const auto guide =
          std::find_if(p.guides.begin(), p.guides.end(), [&](const Guide& g) { return guide_name(g) == name; });
      fields.push_back(guide == p.guides.end() ? "" : csv_number(guide->weight));
    }
    const bool has_mauve = row.mauve >= 0;
    fields.insert(fields.end(), {std::to_string(row.continuations.size()), csv_number(row.scorer_perplexity), csv_number(row.dist3),
                                 csv_number(row.div), row.adherence > -2 ? csv_number(row.adherence) : "",
                                 row.adherence_chance > -2 ? csv_number(row.adherence_chance) : "",
                                 has_mauve ? csv_number(row.mauve) : "", has_mauve ? csv_number(row.mauve_se) : ""});
    for (const auto& [judge, c] : judge_classes) fields.push_back(judged_fraction(row, judge, c));
    out += csv_record(fields);
  }
  return out;
}

std::string eval_texts_jsonl(const std::vector<EvalRow>& rows) {
  std::string out;
  for (const auto& row : rows)
    for (const auto& t : row.continuations)
      out += json{{"setting", row.label},
                  {"prompt", t.prompt},
                  {"text", t.text},
                  {"scorer_perplexity", t.scorer_perplexity},
                  {"adherence", t.adherence > -2 ? json(t.adherence) : json(nullptr)}}
                 .dump(-1, ' ', false, json::error_handler_t::replace) +
             "\n";
  return out;
}

}  // namespace dglm
