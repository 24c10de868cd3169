// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "dglm/csv.h"
#include "dglm/error.h"
#include "dglm/evaluate.h"
#include "dglm/fileio.h"
#include "dglm/lexicon_judge.h"
#include "dglm/tiny_model.h"
#include "test_support.h"

namespace dglm {
namespace {

TEST(EvalSetting, ParsesEveryKey) {
  GenerateParams defaults;
  defaults.samples = 7;
  const auto s = parse_eval_setting("steer;method=dglm;sigma2=0.2;proposal_guidance=2.5;contrast=opposite;drafts=3;"
                                    "cfg=1.5;steps=12;guide=sentiment=+4;guide=topic=-2:science;temperature=0.8;top_p=0.95",
                                    defaults);
  EXPECT_EQ(s.label, "steer");
  EXPECT_EQ(s.method, Method::Dglm);
  EXPECT_FLOAT_EQ(s.params.sigma2, 0.2f);
  EXPECT_FLOAT_EQ(s.params.proposal_guidance, 2.5f);
  EXPECT_EQ(s.params.contrast, PlanContrast::Opposite);
  EXPECT_EQ(parse_eval_setting("plain", defaults).params.contrast, PlanContrast::Unplanned);
  EXPECT_EQ(s.params.drafts, 3);
  EXPECT_FLOAT_EQ(s.params.cfg, 1.5f);
  EXPECT_EQ(s.params.steps, 12);
  EXPECT_EQ(s.params.samples, 7);
  ASSERT_EQ(s.params.guides.size(), 2u);
  EXPECT_EQ(s.params.guides[1].probe, "topic");
  EXPECT_FLOAT_EQ(s.params.guides[1].weight, -2);
  EXPECT_EQ(s.params.guides[1].target_class, "science");
  EXPECT_FLOAT_EQ(s.params.decoding.top_p, 0.95f);
  EXPECT_EQ(parse_eval_setting("ar;method=ar", defaults).method, Method::Autoregressive);
  EXPECT_TRUE(s.plans.csv.empty());
  const auto planned = parse_eval_setting("real;plans=data/a:b.csv:very positive", defaults);
  EXPECT_EQ(planned.plans.csv, "data/a:b.csv");
  EXPECT_EQ(planned.plans.label, "very positive");
}

TEST(EvalSetting, RejectsMalformedSpecsNamingTheKey) {
  const GenerateParams d;
  auto field_of = [&](const std::string& spec) {
    try {
      parse_eval_setting(spec, d);
    } catch (const Error& e) {
      return e.where().field.empty() ? std::string("(none)") : e.where().field;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(field_of(";sigma2=1"), "(none)");  // no label
  EXPECT_EQ(field_of("sigma2=1"), "(none)");   // a forgotten label
  EXPECT_EQ(field_of("x;sigma2=lots"), "sigma2");
  EXPECT_EQ(field_of("x;colour=blue"), "colour");
  EXPECT_EQ(field_of("x;guide=sentiment"), "guide");
  EXPECT_EQ(field_of("x;contrast=reversed"), "contrast");
  EXPECT_EQ(field_of("x;plans=reviews.csv"), "plans");  // no label
  EXPECT_EQ(field_of("x;plans=reviews.csv:"), "plans");
  EXPECT_EQ(field_of("x;plans=reviews.csv:positive;guide=sentiment=4"), "plans");  // plans replace the steering
  EXPECT_EQ(field_of("x;method=ar;plans=reviews.csv:positive"), "plans");
  EXPECT_EQ(field_of("x;plans=C:/data/reviews.csv:positive"), "accepted");
  EXPECT_EQ(field_of("x;nokey"), "(none)");
  EXPECT_THROW(parse_eval_setting("x;method=beam", d), Error);
}

TEST(EvalPrompts, RoundTripAndLineNumbersInErrors) {
  const auto path = test::temp_dir() + "/prompts.jsonl";
  write_eval_prompts(path, {{"The old sailor", "walked home."}, {"A \"quoted\" prefix", ""}});
  const auto back = read_eval_prompts(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].prefix, "A \"quoted\" prefix");
  std::ofstream(path) << "{\"prefix\": \"ok\"}\n\n{\"continuation\": \"no prefix\"}\n";
  try {
    read_eval_prompts(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where().line, 3);
  }
}

TEST(Evaluate, MeasuresEverySampleOfEveryPromptWithJudges) {
  const auto dir = test::temp_dir() + "/tiny";
  make_tiny_model(dir, 3);
  auto model = Model::open(dir);
  const auto prompts = make_eval_prompts(model, DGLM_TEST_DATA_DIR "/eval-corpus.txt", 3, 12, 6, 1);
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_FALSE(prompts[0].reference.empty());
  GenerateParams defaults;
  defaults.samples = 4;
  defaults.max_new_tokens = 6;
  defaults.steps = 4;
  EvalOptions options;
  options.judges["sentiment"] = dir + "/probes/sentiment";  // a probe of the model stands in for a judge here
  const auto row = evaluate_setting(model, model, prompts, parse_eval_setting("plain", defaults), options);
  EXPECT_GT(row.scorer_perplexity, 1);
  EXPECT_GE(row.adherence, -1);
  EXPECT_LE(row.adherence, 1);
  EXPECT_GE(row.adherence_chance, -1);
  EXPECT_LE(row.adherence_chance, 1);
  EXPECT_NE(row.adherence_chance, row.adherence);
  ASSERT_EQ(row.judged.at("sentiment").size(), 2u);
  EXPECT_NEAR(row.judged.at("sentiment")[0] + row.judged.at("sentiment")[1], 1.0, 1e-9);
  EXPECT_EQ(row.mauve, -1);  // not asked for
  // Every text is kept, prompt by prompt, with the measures the row's means are made of.
  ASSERT_EQ(row.continuations.size(), 12u);
  double adherence_sum = 0;
  for (std::size_t k = 0; k < row.continuations.size(); ++k) {
    EXPECT_EQ(row.continuations[k].prompt, k / 4);
    adherence_sum += row.continuations[k].adherence;
  }
  EXPECT_NEAR(adherence_sum / 12, row.adherence, 1e-9);
  const auto ar = evaluate_setting(model, model, prompts, parse_eval_setting("ar;method=ar", defaults), options);
  EXPECT_EQ(ar.adherence, -2);  // plain AR has no proposal
  EXPECT_EQ(ar.adherence_chance, -2);
  // As JSON lines: one per text, the setting's label on each, no adherence where there is no proposal.
  const auto jsonl = eval_texts_jsonl({row, ar});
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 24);
  const auto first = nlohmann::json::parse(jsonl.substr(0, jsonl.find('\n')));
  EXPECT_EQ(first.at("setting"), "plain");
  EXPECT_EQ(first.at("prompt"), 0);
  EXPECT_EQ(first.at("text"), row.continuations[0].text);
  EXPECT_NEAR(first.at("adherence").get<double>(), row.continuations[0].adherence, 1e-12);
  EXPECT_NEAR(first.at("scorer_perplexity").get<double>(), row.continuations[0].scorer_perplexity, 1e-9);
  const auto last = nlohmann::json::parse(jsonl.substr(jsonl.rfind('\n', jsonl.size() - 2) + 1));
  EXPECT_EQ(last.at("setting"), "ar");
  EXPECT_EQ(last.at("prompt"), 2);
  EXPECT_TRUE(last.at("adherence").is_null());
  const std::vector<EvalPrompt> one_prompt{prompts[0]};
  EXPECT_EQ(evaluate_setting(model, model, one_prompt, parse_eval_setting("plain", defaults), options).adherence_chance,
            -2) << "no other prompt to compare with";
  EXPECT_EQ(ar.judged.count("sentiment@proposal"), 0u);

  // The probe judge also reads the proposals: guidance moves them to the target class.
  const auto& classes = row.judge_classes.at("sentiment@proposal");
  const auto target = static_cast<std::size_t>(std::find(classes.begin(), classes.end(), "positive") - classes.begin());
  ASSERT_LT(target, classes.size());
  const auto steered =
      evaluate_setting(model, model, prompts, parse_eval_setting("steer;guide=sentiment=100:positive", defaults), options);
  EXPECT_LT(row.judged.at("sentiment@proposal")[target], 1.0);
  EXPECT_EQ(steered.judged.at("sentiment@proposal")[target], 1.0);

  // A lexicon none of whose words the tiny model can write judges every text neutral.
  const auto lexicon = test::temp_dir() + "/never.json";
  write_file_atomic(lexicon, R"({"class_if_positive": "pos", "class_if_negative": "neg", "class_if_zero": "none",
                                 "words": {"zzzzzz": 1, "qqqqqq": -1}})");
  options.lexicon_judges["words"] = lexicon;
  const auto judged = evaluate_setting(model, model, prompts, parse_eval_setting("plain", defaults), options);
  EXPECT_EQ(judged.judge_classes.at("words"), (std::vector<std::string>{"neg", "none", "pos"}));
  EXPECT_EQ(judged.judged.at("words"), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(judged.judged.at("sentiment"), row.judged.at("sentiment"));  // the same texts: same seed
  options.lexicon_judges = {{"sentiment", lexicon}};
  expect_invalid_argument([&] { evaluate_setting(model, model, prompts, parse_eval_setting("x", defaults), options); });
}

TEST(Evaluate, WritesFromTheEmbeddingsOfPlanTexts) {
  const auto dir = test::temp_dir() + "/tiny-plans";
  make_tiny_model(dir, 5);
  auto model = Model::open(dir);
  const auto prompts = make_eval_prompts(model, DGLM_TEST_DATA_DIR "/eval-corpus.txt", 2, 12, 6, 1);
  GenerateParams defaults;
  defaults.samples = 3;
  defaults.max_new_tokens = 6;
  const auto csv = test::temp_dir() + "/plans.csv";
  write_file_atomic(csv, "text,label\n\"The food was great, and cheap.\",positive\nI loved every minute,positive\n"
                         "Cold soup and a rude waiter,negative\n");
  EvalOptions options;
  options.judges["sentiment"] = dir + "/probes/sentiment";
  auto measure = [&](const std::string& spec) {
    return evaluate_setting(model, model, prompts, parse_eval_setting(spec, defaults), options);
  };
  const auto positive = measure("positive;sigma2=0;plans=" + csv + ":positive");
  ASSERT_EQ(positive.continuations.size(), 6u);
  for (const auto& text : positive.continuations) {
    EXPECT_GE(text.adherence, -1);  // every text has a plan, as DGLM's do
    EXPECT_LE(text.adherence, 1);
  }
  EXPECT_GE(positive.adherence_chance, -1);
  // Written again, the same texts; from other plans, other texts.
  auto texts = [](const EvalRow& row) {
    std::vector<std::string> out;
    for (const auto& t : row.continuations) out.push_back(t.text);
    return out;
  };
  EXPECT_EQ(texts(measure("again;sigma2=0;plans=" + csv + ":positive")), texts(positive));
  const auto negative = measure("negative;sigma2=0;plans=" + csv + ":negative");
  EXPECT_NE(texts(negative), texts(positive));
  // One plan text: every proposal is its embedding, so the judge reads all of them as one class.
  const auto one_plan = negative.judged.at("sentiment@proposal");
  EXPECT_TRUE(one_plan == (std::vector<double>{1, 0}) || one_plan == (std::vector<double>{0, 1}));

  try {
    measure("x;plans=" + csv + ":neutral");
    FAIL() << "a label no row has";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, csv);
    EXPECT_EQ(e.where().field, "label");
  }
  EXPECT_THROW(measure("x;plans=" + test::temp_dir() + "/missing.csv:positive"), Error);
}

TEST(LexiconJudge, SumsWordScoresWithNegationAndLongestPhrases) {
  const LexiconJudge judge({{"good", 3}, {"bad", -3}, {"no fun", -3}, {"fun", 4}, {"can't stand", -3}},
                           {"not", "don't"}, "positive", "neutral", "negative");
  EXPECT_EQ(judge.classes(), (std::vector<std::string>{"negative", "neutral", "positive"}));
  EXPECT_EQ(judge.score("A GOOD day, a good-ish night."), 3);  // case-insensitive; "good-ish" is another word
  EXPECT_EQ(judge.score("not good"), -3);
  EXPECT_EQ(judge.score("not, good"), -3);  // punctuation separates words only
  EXPECT_EQ(judge.score("It was no fun at all"), -3);  // the phrase wins over its last word
  EXPECT_EQ(judge.score("fun and bad and good"), 4);
  EXPECT_EQ(judge.score("I can't stand it"), -3);
  EXPECT_EQ(judge.score(""), 0);
  EXPECT_EQ(judge.classify("good"), 2u);
  EXPECT_EQ(judge.classify("bad"), 0u);
  EXPECT_EQ(judge.classify("good bad"), 1u);

  const LexiconJudge profanity({{"darn", 1}, {"heck", 1}}, {}, "offensive", "clean");
  EXPECT_EQ(profanity.classes(), (std::vector<std::string>{"clean", "offensive"}));
  EXPECT_EQ(profanity.classify("What the heck"), 1u);
  EXPECT_EQ(profanity.classify("What the hecking"), 0u);
  expect_invalid_argument([] { LexiconJudge({{"a", 1}}, {}, "same", "same"); });
}

TEST(LexiconJudge, LoadsFilesAndNamesTheFieldOfAnError) {
  const auto dir = test::temp_dir();
  const auto path = dir + "/lexicon.json";
  write_file_atomic(path, R"({"class_if_positive": "offensive", "class_if_zero": "clean", "negators": ["NOT"],
                              "words": {"Heck": 1, "heck it": 2, "!!!": 5}})");
  const auto judge = LexiconJudge::load(path);
  EXPECT_EQ(judge.score("oh HECK IT"), 2);
  EXPECT_EQ(judge.score("not heck"), -1);
  EXPECT_EQ(judge.score("!!!"), 0);  // an entry with no word in it can never match

  auto error_of = [&](const std::string& json) {
    write_file_atomic(path, json);
    try {
      LexiconJudge::load(path);
    } catch (const Error& e) {
      EXPECT_EQ(e.where().file, path);
      return e.where().field.empty() ? "line " + std::to_string(e.where().line) : e.where().field;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "z"})"), "words");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "z", "words": {}})"), "words");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "z", "words": {"good": "3"}})"), "words.good");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "words": {"good": 3}})"), "class_if_zero");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "", "words": {"good": 3}})"), "class_if_zero");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "p", "words": {"good": 3}})"), "classes");
  EXPECT_EQ(error_of(R"({"class_if_positive": "p", "class_if_zero": "z", "negators": "not", "words": {"a": 1}})"),
            "negators");
  EXPECT_EQ(error_of("{\"class_if_positive\": \"p\",\n \"words\": {\"good\": 3,}}"), "line 2");
  EXPECT_THROW(LexiconJudge::load(dir + "/missing.json"), Error);
}

TEST(EvalCsv, OneRowPerMeasuredSettingWithParametersAndMetrics) {
  GenerateParams d;
  d.steps = 4;
  const std::vector<EvalSetting> settings{
      parse_eval_setting("plain", d),
      parse_eval_setting("steer, \"strong\";guide=sentiment=4;guide=topic=-2:science;sigma2=0.2;proposal_guidance=3;"
                         "contrast=opposite;drafts=4", d),
      parse_eval_setting("ar;method=ar;top_p=0.95", d),
      parse_eval_setting("not measured yet;guide=length=1", d)};
  EvalRow plain{"plain", 41.25, 0.9, 0.5, 0.125, -0.5, 0.75, 0.02};
  plain.continuations.resize(8);  // the texts column counts them
  plain.judged["sentiment"] = {0.25, 0.75};
  plain.judge_classes["sentiment"] = {"negative", "positive"};
  EvalRow steer = plain;
  steer.label = settings[1].label;
  steer.mauve = -1;
  EvalRow ar{"ar", 30, 0.8, 0.4};  // no proposal (adherence and its chance level -2), no MAUVE, no judges
  ar.continuations.resize(8);

  const auto path = test::temp_dir() + "/eval.csv";
  write_file_atomic(path, eval_csv(settings, {plain, steer, ar}));
  std::vector<std::vector<std::string>> records;
  for_each_csv_record(path, {CsvDialect{}}, [&](const CsvRecord& r) {
    records.push_back(r.fields);
    return true;
  });
  using Fields = std::vector<std::string>;
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0], (Fields{"label", "method", "sigma2", "proposal_guidance", "contrast", "drafts", "cfg", "steps",
                                "temperature", "top_p", "guides", "guide_weight", "plans", "guide:sentiment", "guide:topic:science", "guide:length", "texts",
                                "scorer_perplexity", "dist3", "div", "adherence", "adherence_chance", "mauve", "mauve_se",
                                "judge-sentiment:negative", "judge-sentiment:positive"}));
  EXPECT_EQ(records[1], (Fields{"plain", "dglm", "0.05", "1", "unplanned", "1", "1", "4", "1", "0.9", "", "", "", "", "", "", "8", "41.25",
                                "0.9", "0.5", "0.125", "-0.5", "0.75", "0.02", "0.25", "0.75"}));
  EXPECT_EQ(records[2], (Fields{"steer, \"strong\"", "dglm", "0.2", "3", "opposite", "4", "1", "4", "1", "0.9", "sentiment + topic:science",
                                "", "", "4", "-2", "", "8", "41.25", "0.9", "0.5", "0.125", "-0.5", "", "", "0.25", "0.75"}));
  EXPECT_EQ(records[3], (Fields{"ar", "ar", "0.05", "1", "unplanned", "1", "1", "4", "1", "0.95", "", "", "", "", "", "", "8", "30", "0.8",
                                "0.4", "", "", "", "", "", ""}));
  // A single guide's weight also lands in guide_weight, the x axis of sweeps over several probes.
  EvalRow length = plain;
  length.label = settings[3].label;
  EXPECT_NE(eval_csv(settings, {plain, steer, ar, length}).find("\nnot measured yet,dglm,0.05,1,unplanned,1,1,4,1,0.9,length,1,,,,1,"),
            std::string::npos);
  // Plan texts are named as FILE:LABEL.
  const std::vector<EvalSetting> planned{parse_eval_setting("real;plans=data/reviews.csv:positive", d)};
  EvalRow real = plain;
  real.label = "real";
  EXPECT_NE(eval_csv(planned, {real}).find("\nreal,dglm,0.05,1,unplanned,1,1,4,1,0.9,,,data/reviews.csv:positive,8,"),
            std::string::npos);
}

TEST(Evaluate, TooFewLongDocumentsIsAClearError) {
  const auto dir = test::temp_dir() + "/tiny2";
  make_tiny_model(dir, 4);
  const auto model = Model::open(dir);
  EXPECT_THROW(make_eval_prompts(model, DGLM_TEST_DATA_DIR "/eval-corpus.txt", 100, 12, 6, 1), Error);
  EXPECT_THROW(make_eval_prompts(model, "/nonexistent/corpus.txt", 1, 12, 6, 1), Error);
}

}  // namespace
}  // namespace dglm
