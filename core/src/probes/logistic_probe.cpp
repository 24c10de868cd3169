// SPDX-License-Identifier: GPL-3.0-or-later
#include "probes/logistic_probe.h"

#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/optim/lbfgs.h>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "io/json_text.h"
#include "io/weights.h"

namespace dglm {
namespace {

namespace fs = std::filesystem;

constexpr int kFormatVersion = 1;

Location in_file(const std::string& file, const std::string& field = {}) { return Location{file, 0, 0, field}; }

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string shape_text(at::IntArrayRef shape) {
  std::string text;
  for (const auto size : shape) text += (text.empty() ? "" : ", ") + std::to_string(size);
  return "[" + text + "]";
}

// Empty when the class list is usable; otherwise what is wrong with it.
std::string class_names_problem(const std::vector<std::string>& classes) {
  if (classes.size() < 2) return "a probe needs at least 2 classes, got " + std::to_string(classes.size());
  std::set<std::string> seen;
  for (const auto& name : classes) {
    if (name.empty()) return "class names must not be empty";
    if (!seen.insert(name).second) return "class '" + name + "' appears twice";
  }
  return {};
}

// y must be a [N] vector of class indices in [0, classes) matching X's rows.
torch::Tensor checked_labels(const torch::Tensor& X, const torch::Tensor& y, std::size_t classes) {
  if (X.dim() != 2 || y.dim() != 1 || X.size(0) != y.size(0) || X.size(0) == 0)
    throw Error(ErrorKind::InvalidArgument, "probe data must be X [N, D] and y [N] with N > 0, got X " +
                                                shape_text(X.sizes()) + " and y " + shape_text(y.sizes()));
  const auto labels = y.to(at::kLong);
  if (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= static_cast<int64_t>(classes))
    throw Error(ErrorKind::InvalidArgument, "labels must lie in [0, " + std::to_string(classes) + ")");
  return labels;
}

torch::Tensor load_f32(const safetensors::File& file, const std::string& path, const std::string& name,
                       const std::vector<int64_t>& expected_shape) {
  const auto* tensor = file.find(name);
  if (tensor == nullptr) throw Error(ErrorKind::NotFound, "missing tensor", in_file(path, name));
  if (tensor->dtype != safetensors::DType::F32)
    throw Error(ErrorKind::Incompatible, std::string("expected F32, got ") + safetensors::to_string(tensor->dtype),
                in_file(path, name));
  if (tensor->shape != expected_shape)
    throw Error(ErrorKind::Incompatible,
                "shape " + shape_text(tensor->shape) + " does not match the metadata's " + shape_text(expected_shape),
                in_file(path, name));
  auto values = to_torch(*tensor);
  if (!values.isfinite().all().item<bool>())
    throw Error(ErrorKind::Corrupt, "non-finite values", in_file(path, name));
  return values;
}

// The weights file the metadata names ("weights", a file next to the JSON); probes saved before that field
// existed keep theirs in NAME.safetensors.
fs::path weights_path(const JsonFields& fields, const std::string& path_without_extension) {
  const fs::path stem(path_without_extension);
  if (!fields.has("weights")) return stem.parent_path() / (stem.filename().string() + ".safetensors");
  const auto file = fields.string("weights");
  if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos)
    fields.fail(ErrorKind::Corrupt, "weights", "expected the name of a file next to the JSON, got '" + file + "'");
  return stem.parent_path() / file;
}

// The weights file of the probe saved at `path_without_extension` now; empty when there is none (or its JSON
// cannot be read, so nothing is known to be safe to delete).
fs::path current_weights(const std::string& path_without_extension) {
  const auto json_path = path_without_extension + ".json";
  if (!fs::exists(json_path)) return {};
  try {
    const auto root = parse_json_text(read_file_text(json_path), json_path);
    return weights_path(JsonFields(root, json_path), path_without_extension);
  } catch (const Error&) {
    return {};
  }
}

std::string random_tag() {
  std::random_device device;
  char tag[17];
  std::snprintf(tag, sizeof tag, "%08x%08x", device(), device());
  return tag;
}

}  // namespace

torch::Tensor LogisticProbe::log_probs(const torch::Tensor& embeddings) const {
  return at::log_softmax(at::addmm(bias, embeddings, weight.t()), 1);
}

int LogisticProbe::class_index(const std::string& class_name) const {
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (classes[i] == class_name) return static_cast<int>(i);
  throw Error(ErrorKind::NotFound, "class '" + class_name + "' is not one of: " + join(classes));
}

torch::Tensor LogisticProbe::mirror(const torch::Tensor& embeddings) const {
  if (classes.size() != 2)
    throw Error(ErrorKind::InvalidArgument, "only a two-class probe has one boundary to mirror across; '" + name +
                                                "' has " + std::to_string(classes.size()) + " classes");
  const auto normal = (weight[1] - weight[0]).to(embeddings.scalar_type());
  const auto squared_norm = normal.dot(normal);
  if (squared_norm.item<double>() == 0)
    throw Error(ErrorKind::InvalidArgument, "probe '" + name + "' weighs both classes alike: it has no boundary");
  const auto log_odds = embeddings.matmul(normal) + (bias[1] - bias[0]).to(embeddings.scalar_type());
  return embeddings - (2 * log_odds / squared_norm).unsqueeze(1) * normal;
}

LogisticProbe fit_logistic_probe(const torch::Tensor& X, const torch::Tensor& y, std::vector<std::string> classes,
                                 const ProbeFitParams& params) {
  if (const auto problem = class_names_problem(classes); !problem.empty())
    throw Error(ErrorKind::InvalidArgument, problem);
  if (params.l2 < 0 || params.max_iterations < 1)
    throw Error(ErrorKind::InvalidArgument, "probe fitting needs l2 >= 0 and max_iterations >= 1");
  const auto labels = checked_labels(X, y, classes.size());
  const auto class_count = static_cast<int64_t>(classes.size());
  const auto counts = at::bincount(labels, {}, class_count).to(at::kDouble);
  for (int64_t c = 0; c < class_count; ++c)
    if (counts[c].item<double>() == 0)
      throw Error(ErrorKind::InvalidArgument, "class '" + classes[c] + "' has no training examples");
  // Balanced weights N / (C count_c) make every class contribute equally to the weighted mean.
  const auto class_weights = params.balance_classes ? X.size(0) / (class_count * counts)
                                                    : at::ones({class_count}, at::kDouble);

  // Fitting needs gradients even when the caller runs under a no-grad guard; double precision lets L-BFGS
  // converge tightly on nearly separable data.
  at::AutoGradMode enable_grad(true);
  const auto inputs = X.to(at::kDouble);
  LogisticProbe probe;
  probe.classes = std::move(classes);
  probe.weight = at::zeros({class_count, X.size(1)}, at::kDouble).requires_grad_(true);
  probe.bias = at::zeros({class_count}, at::kDouble).requires_grad_(true);
  torch::optim::LBFGS optimizer({probe.weight, probe.bias}, torch::optim::LBFGSOptions(1)
                                                                 .max_iter(params.max_iterations)
                                                                 .line_search_fn("strong_wolfe"));
  optimizer.step([&] {
    optimizer.zero_grad();
    auto loss = at::nll_loss(probe.log_probs(inputs), labels, class_weights) +
                (params.l2 / 2) * probe.weight.pow(2).sum();
    loss.backward();
    return loss;
  });
  probe.weight = probe.weight.detach().to(at::kFloat);
  probe.bias = probe.bias.detach().to(at::kFloat);
  return probe;
}

ProbeEvaluation evaluate_probe(const LogisticProbe& probe, const torch::Tensor& X, const torch::Tensor& y) {
  at::NoGradGuard no_grad;
  const auto labels = checked_labels(X, y, probe.classes.size());
  const auto predicted = probe.log_probs(X.to(probe.weight.dtype())).argmax(1);
  const auto class_count = probe.classes.size();
  ProbeEvaluation evaluation;
  evaluation.confusion.assign(class_count, std::vector<int64_t>(class_count, 0));
  const auto truth = labels.accessor<int64_t, 1>();
  const auto guess = predicted.accessor<int64_t, 1>();
  int64_t correct = 0;
  for (int64_t i = 0; i < labels.size(0); ++i) {
    ++evaluation.confusion[truth[i]][guess[i]];
    correct += truth[i] == guess[i];
  }
  evaluation.accuracy = static_cast<double>(correct) / static_cast<double>(labels.size(0));
  return evaluation;
}

void save_probe(const LogisticProbe& probe, const std::string& path_without_extension) {
  if (const auto problem = class_names_problem(probe.classes); !problem.empty())
    throw Error(ErrorKind::InvalidArgument, problem);
  const auto class_count = static_cast<int64_t>(probe.classes.size());
  if (probe.weight.dim() != 2 || probe.weight.size(0) != class_count || probe.bias.dim() != 1 ||
      probe.bias.size(0) != class_count)
    throw Error(ErrorKind::InvalidArgument, "probe '" + probe.name + "' has weight " +
                                                shape_text(probe.weight.sizes()) + " and bias " +
                                                shape_text(probe.bias.sizes()) + " for " +
                                                std::to_string(class_count) + " classes");
  safetensors::File tensors;
  tensors.tensors.push_back(from_torch("weight", probe.weight));
  tensors.tensors.push_back(from_torch("bias", probe.bias));
  // The JSON is the commit point. The weights go to a file of their own first, the JSON naming them then
  // replaces the old one atomically, and only after that are the old weights removed: interrupted anywhere,
  // the folder holds the previous probe or the new one, whole.
  const fs::path stem(path_without_extension);
  const auto previous_weights = current_weights(path_without_extension);
  const auto weights_file = stem.filename().string() + "." + random_tag() + ".safetensors";
  safetensors::write((stem.parent_path() / weights_file).string(), tensors);
  const nlohmann::json metadata = {
      {"format_version", kFormatVersion},      {"name", probe.name},
      {"description", probe.description},      {"classes", probe.classes},
      {"dim", probe.weight.size(1)},           {"heldout_accuracy", probe.heldout_accuracy},
      {"weights", weights_file},
  };
  write_file_atomic(path_without_extension + ".json", metadata.dump(2) + "\n");
  if (!previous_weights.empty()) {
    std::error_code ignored;  // a stale file left behind costs disk space, not correctness
    fs::remove(previous_weights, ignored);
  }
}

LogisticProbe load_probe(const std::string& path_without_extension) {
  const auto json_path = path_without_extension + ".json";
  const auto root = parse_json_text(read_file_text(json_path), json_path);
  const JsonFields fields(root, json_path);

  if (const auto version = fields.integer("format_version"); version != kFormatVersion)
    fields.fail(ErrorKind::Incompatible, "format_version",
                "version " + std::to_string(version) + " is not supported (expected " +
                    std::to_string(kFormatVersion) + ")");
  LogisticProbe probe;
  probe.name = fields.string("name");
  if (fields.has("description")) probe.description = fields.string("description");
  probe.classes = fields.strings("classes");
  if (const auto problem = class_names_problem(probe.classes); !problem.empty())
    fields.fail(ErrorKind::Corrupt, "classes", problem);
  const auto dim = fields.integer("dim");
  if (dim < 1) fields.fail(ErrorKind::Corrupt, "dim", "must be positive, got " + std::to_string(dim));
  if (fields.has("heldout_accuracy")) {
    probe.heldout_accuracy = fields.number("heldout_accuracy");
    if (probe.heldout_accuracy != -1 && !(probe.heldout_accuracy >= 0 && probe.heldout_accuracy <= 1))
      fields.fail(ErrorKind::Corrupt, "heldout_accuracy", "expected -1 or a number in [0, 1]");
  }

  const auto tensor_path = weights_path(fields, path_without_extension).string();
  const auto tensors = safetensors::read(tensor_path);
  const auto class_count = static_cast<int64_t>(probe.classes.size());
  probe.weight = load_f32(tensors, tensor_path, "weight", {class_count, dim});
  probe.bias = load_f32(tensors, tensor_path, "bias", {class_count});
  return probe;
}

}  // namespace dglm
