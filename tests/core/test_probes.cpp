// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>
#include <nlohmann/json.hpp>

#include "diffusion/guidance.h"
#include "dglm/error.h"
#include "probes/logistic_probe.h"

namespace {

namespace fs = std::filesystem;
using dglm::Error;
using dglm::ErrorKind;
using dglm::LogisticProbe;

torch::Tensor unit(const torch::Tensor& x) { return x / x.norm(2, 1, true); }

// Gaussian blobs around `centres` [C, D] with spread `noise`, `per_class[c]` rows each, unit-normalised.
struct Dataset {
  torch::Tensor X, y;
};
Dataset blobs(const torch::Tensor& centres, const std::vector<int64_t>& per_class, double noise) {
  std::vector<torch::Tensor> xs, ys;
  for (int64_t c = 0; c < centres.size(0); ++c) {
    xs.push_back(centres[c] + noise * torch::randn({per_class[c], centres.size(1)}));
    ys.push_back(torch::full({per_class[c]}, c, at::kLong));
  }
  return {unit(torch::cat(xs)), torch::cat(ys)};
}

double recall(const dglm::ProbeEvaluation& evaluation, size_t cls) {
  int64_t total = 0;
  for (const auto count : evaluation.confusion[cls]) total += count;
  return static_cast<double>(evaluation.confusion[cls][cls]) / static_cast<double>(total);
}

TEST(LogisticProbe, SeparatesLinearlySeparableClasses) {
  torch::manual_seed(1);
  auto centres = torch::zeros({2, 16});
  centres[0][0] = 1;
  centres[1][0] = -1;
  const auto train = blobs(centres, {300, 300}, 0.2);
  const auto heldout = blobs(centres, {200, 200}, 0.2);
  const auto probe = dglm::fit_logistic_probe(train.X, train.y, {"neg", "pos"}, {});
  ASSERT_EQ(probe.weight.sizes(), (at::IntArrayRef{2, 16}));
  ASSERT_EQ(probe.bias.sizes(), (at::IntArrayRef{2}));
  EXPECT_EQ(probe.weight.scalar_type(), at::kFloat);
  EXPECT_GE(dglm::evaluate_probe(probe, heldout.X, heldout.y).accuracy, 0.99);
  // log_probs are normalised log-probabilities.
  const auto total = probe.log_probs(heldout.X).exp().sum(1);
  EXPECT_LT((total - 1).abs().max().item<double>(), 1e-5);
}

TEST(LogisticProbe, ThreeClassesWithConfusionMatrix) {
  torch::manual_seed(2);
  const auto centres = torch::eye(3, 12);
  const auto train = blobs(centres, {200, 200, 200}, 0.3);
  const auto heldout = blobs(centres, {100, 100, 100}, 0.3);
  const auto probe = dglm::fit_logistic_probe(train.X, train.y, {"sport", "tech", "food"}, {});
  const auto evaluation = dglm::evaluate_probe(probe, heldout.X, heldout.y);
  EXPECT_GE(evaluation.accuracy, 0.95);
  ASSERT_EQ(evaluation.confusion.size(), 3u);
  int64_t diagonal = 0;
  for (size_t truth = 0; truth < 3; ++truth) {
    ASSERT_EQ(evaluation.confusion[truth].size(), 3u);
    int64_t row = 0;
    for (const auto count : evaluation.confusion[truth]) row += count;
    EXPECT_EQ(row, 100) << "true class " << truth;
    diagonal += evaluation.confusion[truth][truth];
  }
  EXPECT_DOUBLE_EQ(evaluation.accuracy, diagonal / 300.0);
}

TEST(LogisticProbe, ClassBalancingRaisesMinorityRecall) {
  torch::manual_seed(3);
  auto centres = torch::zeros({2, 8});
  centres[0][0] = 0.5;
  centres[1][0] = -0.5;
  const auto train = blobs(centres, {950, 50}, 0.6);  // overlapping: the minority is easy to give up on
  const auto heldout = blobs(centres, {500, 500}, 0.6);
  dglm::ProbeFitParams balanced, plain;
  plain.balance_classes = false;
  const auto with = dglm::evaluate_probe(dglm::fit_logistic_probe(train.X, train.y, {"ok", "rare"}, balanced),
                                         heldout.X, heldout.y);
  const auto without = dglm::evaluate_probe(dglm::fit_logistic_probe(train.X, train.y, {"ok", "rare"}, plain),
                                            heldout.X, heldout.y);
  EXPECT_GT(recall(with, 1), recall(without, 1) + 0.2);
  EXPECT_GT(recall(without, 0), recall(with, 0));
}

TEST(LogisticProbe, FitRejectsBadInput) {
  const auto X = unit(torch::randn({6, 4}));
  const auto y = torch::tensor({0, 1, 0, 1, 0, 1}, at::kLong);
  EXPECT_THROW(dglm::fit_logistic_probe(X, y, {"only"}, {}), Error);
  EXPECT_THROW(dglm::fit_logistic_probe(X, y, {"a", "a"}, {}), Error);
  EXPECT_THROW(dglm::fit_logistic_probe(X, y.slice(0, 0, 5), {"a", "b"}, {}), Error);
  EXPECT_THROW(dglm::fit_logistic_probe(X, y + 1, {"a", "b"}, {}), Error);
  try {
    dglm::fit_logistic_probe(X, y * 2, {"a", "b", "c"}, {});
    ADD_FAILURE() << "a class without examples was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("class 'b' has no training examples"), std::string::npos)
        << error.what();
  }
}

TEST(LogisticProbe, ClassIndexNamesTheChoices) {
  LogisticProbe probe;
  probe.classes = {"a", "b"};
  EXPECT_EQ(probe.class_index("b"), 1);
  try {
    probe.class_index("x");
    ADD_FAILURE() << "unknown class accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::NotFound);
    EXPECT_EQ(std::string(error.what()), "class 'x' is not one of: a, b");
  }
}

// Mirroring negates what the probe reads, keeps what it does not, and undoes itself; only two classes have one
// boundary.
TEST(LogisticProbe, MirrorNegatesTheLogOddsAndKeepsTheRest) {
  torch::manual_seed(4);
  LogisticProbe probe;
  probe.name = "mood";
  probe.classes = {"sad", "glad"};
  probe.weight = torch::randn({2, 6});
  probe.bias = torch::tensor({0.3f, -0.4f});
  const auto embeddings = unit(torch::randn({5, 6}));
  const auto mirrored = probe.mirror(embeddings);
  const auto log_odds = [&](const torch::Tensor& x) {
    const auto log_probs = probe.log_probs(x);
    return log_probs.select(1, 1) - log_probs.select(1, 0);
  };
  EXPECT_TRUE(torch::allclose(log_odds(mirrored), -log_odds(embeddings), 1e-4, 1e-5));
  const auto normal = probe.weight[1] - probe.weight[0];
  const auto across_normal = [&](const torch::Tensor& x) {
    return x - (x.matmul(normal) / normal.dot(normal)).unsqueeze(1) * normal;
  };
  EXPECT_TRUE(torch::allclose(across_normal(mirrored), across_normal(embeddings), 1e-4, 1e-5));
  EXPECT_GT((mirrored - embeddings).abs().max().item<double>(), 0.1);
  EXPECT_TRUE(torch::allclose(probe.mirror(mirrored), embeddings, 1e-4, 1e-5));

  probe.classes.push_back("calm");
  probe.weight = torch::randn({3, 6});
  probe.bias = torch::zeros({3});
  try {
    probe.mirror(embeddings);
    ADD_FAILURE() << "a three-class probe was mirrored";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("'mood' has 3 classes"), std::string::npos) << error.what();
  }
}

class ProbeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("dglm-test-probes-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    probe.name = "tone";
    probe.description = "positive vs negative";
    probe.classes = {"negative", "positive"};
    probe.weight = torch::randn({2, 5});
    probe.bias = torch::randn({2});
    probe.heldout_accuracy = 0.875;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string path(const std::string& stem) const { return (dir / stem).string(); }
  // The weights file STEM.json names.
  fs::path weights_of(const std::string& stem) const {
    return dir / nlohmann::json::parse(std::ifstream(path(stem) + ".json")).at("weights").get<std::string>();
  }
  std::vector<fs::path> weight_files() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
    return files;
  }

  // Saves the probe as STEM, then lets `edit` change its JSON metadata.
  std::string save_edited(const std::string& stem, const std::function<void(nlohmann::json&)>& edit) const {
    dglm::save_probe(probe, path(stem));
    std::ifstream in(path(stem) + ".json");
    auto metadata = nlohmann::json::parse(in);
    edit(metadata);
    std::ofstream(path(stem) + ".json") << metadata.dump();
    return path(stem);
  }

  fs::path dir;
  LogisticProbe probe;
};

TEST_F(ProbeFiles, SaveLoadRoundTripIsExact) {
  dglm::save_probe(probe, path("tone"));
  EXPECT_TRUE(fs::exists(weights_of("tone")));
  const auto loaded = dglm::load_probe(path("tone"));
  EXPECT_EQ(loaded.name, probe.name);
  EXPECT_EQ(loaded.description, probe.description);
  EXPECT_EQ(loaded.classes, probe.classes);
  EXPECT_DOUBLE_EQ(loaded.heldout_accuracy, probe.heldout_accuracy);
  EXPECT_TRUE(torch::equal(loaded.weight, probe.weight));
  EXPECT_TRUE(torch::equal(loaded.bias, probe.bias));
  const auto metadata = nlohmann::json::parse(std::ifstream(path("tone") + ".json"));
  EXPECT_EQ(metadata.at("format_version"), 1);
  EXPECT_EQ(metadata.at("dim"), 5);
}

TEST_F(ProbeFiles, SavingAgainReplacesTheWholeProbeAndLeavesNoStaleWeights) {
  dglm::save_probe(probe, path("tone"));
  const auto first_weights = weights_of("tone");
  const LogisticProbe first = probe;
  probe.weight = torch::randn({2, 5});
  dglm::save_probe(probe, path("tone"));
  EXPECT_NE(weights_of("tone"), first_weights);
  EXPECT_EQ(weight_files(), std::vector<fs::path>{weights_of("tone")});
  EXPECT_TRUE(torch::equal(dglm::load_probe(path("tone")).weight, probe.weight));
  EXPECT_FALSE(torch::equal(dglm::load_probe(path("tone")).weight, first.weight));
}

TEST_F(ProbeFiles, AnInterruptedSaveLeavesThePreviousProbe) {
  dglm::save_probe(probe, path("tone"));
  const auto saved = probe;
  // What a save cut off before its JSON leaves behind: other weights under a name no JSON refers to.
  probe.weight = torch::randn({2, 5});
  dglm::save_probe(probe, path("other"));
  const auto orphan = dir / "tone.0123456789abcdef.safetensors";
  fs::rename(weights_of("other"), orphan);
  fs::remove(path("other") + ".json");
  EXPECT_TRUE(torch::equal(dglm::load_probe(path("tone")).weight, saved.weight));
  // The next save replaces the probe and removes only the weights its old JSON named.
  dglm::save_probe(probe, path("tone"));
  EXPECT_TRUE(torch::equal(dglm::load_probe(path("tone")).weight, probe.weight));
  EXPECT_TRUE(fs::exists(orphan));
  EXPECT_EQ(weight_files().size(), 2u);
}

TEST_F(ProbeFiles, ProbesSavedWithoutAWeightsFieldUseNameDotSafetensors) {
  dglm::save_probe(probe, path("legacy"));
  fs::rename(weights_of("legacy"), path("legacy") + ".safetensors");
  auto metadata = nlohmann::json::parse(std::ifstream(path("legacy") + ".json"));
  metadata.erase("weights");
  std::ofstream(path("legacy") + ".json") << metadata.dump();
  EXPECT_TRUE(torch::equal(dglm::load_probe(path("legacy")).weight, probe.weight));
  dglm::save_probe(probe, path("legacy"));  // saving again moves it to the new form and drops the old file
  EXPECT_FALSE(fs::exists(path("legacy") + ".safetensors"));
  EXPECT_TRUE(torch::equal(dglm::load_probe(path("legacy")).weight, probe.weight));
}

TEST_F(ProbeFiles, MalformedFilesAreRejectedWithTheirOwnMessage) {
  struct Case {
    std::string stem, file_suffix, expected;
    ErrorKind kind;
  };
  std::vector<Case> cases;
  const auto edited = [&](const std::string& stem, ErrorKind kind, const std::string& expected,
                          const std::function<void(nlohmann::json&)>& edit) {
    save_edited(stem, edit);
    cases.push_back({stem, ".json", expected, kind});
  };
  edited("no-classes", ErrorKind::Corrupt, "classes: missing field", [](auto& j) { j.erase("classes"); });
  edited("text-dim", ErrorKind::Corrupt, "dim: expected an integer", [](auto& j) { j["dim"] = "5"; });
  edited("one-class", ErrorKind::Corrupt, "classes: a probe needs at least 2 classes",
         [](auto& j) { j["classes"] = nlohmann::json::array({"positive"}); });
  edited("twice", ErrorKind::Corrupt, "classes: class 'neg' appears twice",
         [](auto& j) { j["classes"] = {"neg", "neg"}; });
  edited("number-class", ErrorKind::Corrupt, "classes: expected an array of strings", [](auto& j) { j["classes"] = {"a", 2}; });
  edited("future", ErrorKind::Incompatible, "format_version: version 2 is not supported",
         [](auto& j) { j["format_version"] = 2; });
  edited("accuracy", ErrorKind::Corrupt, "heldout_accuracy: expected -1 or a number in [0, 1]",
         [](auto& j) { j["heldout_accuracy"] = 1.5; });
  edited("escape", ErrorKind::Corrupt, "weights: expected the name of a file next to the JSON, got '../x.safetensors'",
         [](auto& j) { j["weights"] = "../x.safetensors"; });
  edited("numbered", ErrorKind::Corrupt, "weights: expected a string", [](auto& j) { j["weights"] = 7; });

  // Tensors disagreeing with the metadata: the error names the tensor file and the tensor.
  edited("wrong-dim", ErrorKind::Incompatible, "weight: shape [2, 5] does not match the metadata's [2, 6]",
         [](auto& j) { j["dim"] = 6; });
  cases.back().file_suffix = ".safetensors";
  edited("three-classes", ErrorKind::Incompatible, "weight: shape [2, 5] does not match the metadata's [3, 5]",
         [](auto& j) { j["classes"] = {"a", "b", "c"}; });
  cases.back().file_suffix = ".safetensors";
  probe.bias[1] = std::nan("");
  edited("nan-bias", ErrorKind::Corrupt, "bias: non-finite values", [](auto&) {});
  cases.back().file_suffix = ".safetensors";
  probe.bias[1] = 0.5;

  std::ofstream(path("garbled") + ".json") << "{\"format_version\": 1,\n \"name\": }";
  cases.push_back({"garbled", ".json:2:", "invalid JSON", ErrorKind::Corrupt});
  std::ofstream(path("array") + ".json") << "[1, 2]";
  cases.push_back({"array", ".json", "expected a JSON object", ErrorKind::Corrupt});

  std::set<std::string> messages;
  for (const auto& c : cases) {
    try {
      dglm::load_probe(path(c.stem));
      ADD_FAILURE() << c.stem << ": accepted";
    } catch (const Error& error) {
      const std::string what = error.what();
      EXPECT_EQ(error.kind(), c.kind) << c.stem << ": " << what;
      // Tensor files are named STEM.TAG.safetensors.
      const auto file = c.file_suffix == ".safetensors" ? c.stem + "." : c.stem + c.file_suffix;
      EXPECT_NE(what.find(file), std::string::npos) << c.stem << ": " << what;
      EXPECT_NE(what.find(c.file_suffix), std::string::npos) << c.stem << ": " << what;
      EXPECT_NE(what.find(c.expected), std::string::npos) << c.stem << ": " << what;
      messages.insert(error.message());
    }
  }
  EXPECT_EQ(messages.size(), cases.size()) << "two malformations share a message";
}

TEST_F(ProbeFiles, MissingFilesAreNotFound) {
  dglm::save_probe(probe, path("no-tensors"));
  const auto weights = weights_of("no-tensors");
  fs::remove(weights);
  for (const auto& [stem, missing] : {std::pair{path("absent"), path("absent") + ".json"},
                                      std::pair{path("no-tensors"), weights.string()}}) {
    try {
      dglm::load_probe(stem);
      ADD_FAILURE() << missing << ": accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::NotFound) << error.what();
      EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
    }
  }
}

TEST_F(ProbeFiles, SaveRejectsShapesThatLoadWouldRefuse) {
  probe.weight = torch::randn({3, 5});
  EXPECT_THROW(dglm::save_probe(probe, path("bad")), Error);
  EXPECT_FALSE(fs::exists(path("bad") + ".json"));
}

// Probe guidance on its own: the loss it builds and the direction of its gradient.
class ProbeGuidanceLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    first.classes = {"a", "b"};
    first.weight = torch::tensor({{-3.0f, 0.0f, 0.0f}, {3.0f, 0.0f, 0.0f}});
    first.bias = torch::zeros({2});
    second.classes = {"low", "mid", "high"};
    second.weight = torch::tensor({{0.0f, -2.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 2.0f, 0.0f}});
    second.bias = torch::tensor({0.1f, 0.2f, 0.3f});
    mean = torch::tensor({0.1f, -0.2f, 0.3f});
    stddev = torch::tensor({2.0f, 0.5f, 1.0f});
  }
  // -log p(target | normalise(x std + mean)) summed over rows, without Monte-Carlo noise.
  double direct_loss(const LogisticProbe& probe, int target, const torch::Tensor& x) const {
    return -probe.log_probs(unit(x * stddev + mean)).select(1, target).sum().item<double>();
  }
  // -log(1 - p(target | ...)) summed over rows: what a negative weight descends (away from the target).
  double direct_away_loss(const LogisticProbe& probe, int target, const torch::Tensor& x) const {
    return -torch::log1p(-probe.log_probs(unit(x * stddev + mean)).select(1, target).exp()).sum().item<double>();
  }
  LogisticProbe first, second;
  torch::Tensor mean, stddev;
};

TEST_F(ProbeGuidanceLoss, AtNoNoiseItIsTheWeightedSumOfProbeLosses) {
  const auto x = torch::randn({4, 3});
  const double a = 1 - 1e-12;  // the Monte-Carlo spread sqrt((1-a)/a) vanishes
  const std::vector<dglm::diffusion::ProbeTerm> terms{{&first, 2.0f, 1}, {&second, -0.5f, 2}, {&second, 0.0f, 0}};
  const auto loss =
      dglm::diffusion::probe_guidance(terms, mean, stddev, 4, at::make_generator<at::CPUGeneratorImpl>(1))(x, a);
  // A negative weight steers away: its magnitude times the loss of "any class but the target".
  const double expected = 2.0 * direct_loss(first, 1, x) + 0.5 * direct_away_loss(second, 2, x);
  EXPECT_NEAR(loss.item<double>(), expected, 1e-4 * (1 + std::abs(expected)));
}

TEST_F(ProbeGuidanceLoss, IsMinusLogOfTheMeanProbabilityOverSamples) {
  // One row, many samples: compare with the textbook estimate computed here from the same random draws.
  const auto x = torch::tensor({{0.2f, 0.1f, -0.4f}});
  const double a = 0.6;
  const int n = 16;
  const auto loss = dglm::diffusion::probe_guidance({{&first, 1.0f, 1}}, mean, stddev, n,
                                                    at::make_generator<at::CPUGeneratorImpl>(9))(x, a);
  auto replay = at::make_generator<at::CPUGeneratorImpl>(9);
  const auto xi = at::randn({1, n, 3}, replay, x.options());
  const auto samples = (x.unsqueeze(1) + std::sqrt((1 - a) / a) * xi).reshape({n, 3});
  const double mean_p = first.log_probs(unit(samples * stddev + mean)).exp().select(1, 1).mean().item<double>();
  EXPECT_NEAR(loss.item<double>(), -std::log(mean_p), 1e-5);
}

TEST_F(ProbeGuidanceLoss, GradientStepRaisesTheTargetProbability) {
  const auto x = torch::randn({8, 3}).requires_grad_(true);
  for (const float weight : {1.0f, -1.0f}) {
    const auto loss = dglm::diffusion::probe_guidance({{&first, weight, 1}}, mean, stddev, 8,
                                                      at::make_generator<at::CPUGeneratorImpl>(3))(x, 0.9);
    const auto grad = torch::autograd::grad({loss}, {x})[0];
    const auto moved = (x - 0.05 * grad).detach();
    const double before = -direct_loss(first, 1, x.detach());
    const double after = -direct_loss(first, 1, moved);
    if (weight > 0)
      EXPECT_GT(after, before);
    else
      EXPECT_LT(after, before);
  }
}

TEST_F(ProbeGuidanceLoss, RejectsBadTerms) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  EXPECT_THROW(dglm::diffusion::probe_guidance({{&first, 1.0f, 2}}, mean, stddev, 4, generator), Error);
  EXPECT_THROW(dglm::diffusion::probe_guidance({{nullptr, 1.0f, 0}}, mean, stddev, 4, generator), Error);
  EXPECT_THROW(dglm::diffusion::probe_guidance({{&first, 1.0f, 1}}, mean, stddev, 0, generator), Error);
}

}  // namespace
