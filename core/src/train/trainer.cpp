// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "io/weights.h"

namespace dglm::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kStateKey = "dglm.train_state";
constexpr const char* kLogHeader = "step,loss,lr,items_per_second,elapsed_seconds\n";

std::vector<std::pair<std::string, torch::Tensor>> named_tensors(const NamedModule& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.module->named_parameters(true)) out.emplace_back(m.name + "." + p.key(), p.value());
  for (const auto& b : m.module->named_buffers(true)) out.emplace_back(m.name + "." + b.key(), b.value());
  return out;
}

safetensors::Tensor exact_copy(const std::string& name, const torch::Tensor& t) {
  return from_torch(name, t, t.is_floating_point() ? safetensors::DType::F32 : safetensors::DType::I64);
}

const safetensors::Tensor& find_tensor(const safetensors::File& file, const std::string& name, const std::string& path,
                                       const torch::Tensor& like) {
  const auto* stored = file.find(name);
  if (!stored) throw Error(ErrorKind::Incompatible, "tensor missing from the checkpoint", Location{path, 0, 0, name});
  if (c10::IntArrayRef(stored->shape) != like.sizes())
    throw Error(ErrorKind::Incompatible, "shape differs from the model's (was the config changed?)",
                Location{path, 0, 0, name});
  return *stored;
}

std::string adam_key(const torch::Tensor& param) { return c10::guts::to_string(param.unsafeGetTensorImpl()); }

}  // namespace

at::Generator step_generator(std::uint64_t seed, long step) {
  // splitmix64: neighbouring steps get unrelated streams.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(step) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return at::detail::createCPUGenerator(z ^ (z >> 31));
}

std::string save_weights(torch::nn::Module& module, const std::string& output_dir, const char* file,
                         const std::map<std::string, double>& metrics) {
  std::map<std::string, std::string> metadata;
  for (const auto& [name, value] : metrics) metadata[name] = std::to_string(value);
  const auto path = (fs::path(output_dir) / file).string();
  module.to(torch::kCPU);
  save_module(module, path, false, metadata);
  return path;
}

Trainer::Trainer(const char* stage, const TrainParams& params, std::vector<NamedModule> trained,
                 std::vector<NamedModule> kept)
    : stage_(stage),
      params_(params),
      device_(params.device == Device::Cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU)),
      trained_(std::move(trained)),
      kept_(std::move(kept)) {
  if (params.output_dir.empty())
    throw Error(ErrorKind::InvalidArgument, "an output directory is needed", Location{{}, 0, 0, "output_dir"});
  if (params.max_steps < 1 || params.batch_size < 1)
    throw Error(ErrorKind::InvalidArgument, "max_steps and batch_size must be at least 1");
  if (params.device == Device::Cuda && !cuda_available())
    throw Error(ErrorKind::InvalidArgument, "CUDA was requested but this LibTorch build has no usable CUDA device");
  fs::create_directories(params.output_dir);
  std::vector<torch::Tensor> parameters;
  for (auto& m : trained_) {
    m.module->to(device_);
    m.module->train();
    for (const auto& p : m.module->parameters(true)) parameters.push_back(p);
  }
  for (auto& m : kept_) m.module->to(device_);
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      parameters, torch::optim::AdamWOptions(params.lr).betas({0.9, 0.95}).weight_decay(params.weight_decay));
}

std::string Trainer::checkpoint_path() const { return (fs::path(params_.output_dir) / "checkpoint.safetensors").string(); }
std::string Trainer::log_path() const { return (fs::path(params_.output_dir) / "log.csv").string(); }

double Trainer::lr_at(long step) const {
  if (step < params_.warmup_steps) return params_.lr * static_cast<double>(step + 1) / static_cast<double>(params_.warmup_steps);
  const double span = static_cast<double>(std::max(1L, params_.max_steps - params_.warmup_steps));
  const double done = std::min(1.0, static_cast<double>(step - params_.warmup_steps) / span);
  return params_.min_lr + 0.5 * (params_.lr - params_.min_lr) * (1 + std::cos(M_PI * done));
}

void Trainer::save_checkpoint(long step, double seconds) const {
  safetensors::File file;
  std::int64_t adam_steps = 0;
  for (const auto& group : {trained_, kept_})
    for (const auto& m : group)
      for (const auto& [name, t] : named_tensors(m)) file.tensors.push_back(exact_copy(name, t));
  const auto& state = optimizer_->state();
  for (const auto& m : trained_)
    for (const auto& p : m.module->named_parameters(true)) {
      const auto found = state.find(adam_key(p.value()));
      if (found == state.end()) continue;  // not updated yet
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*found->second);
      adam_steps = s.step();
      file.tensors.push_back(exact_copy("adam." + m.name + "." + p.key() + ".exp_avg", s.exp_avg()));
      file.tensors.push_back(exact_copy("adam." + m.name + "." + p.key() + ".exp_avg_sq", s.exp_avg_sq()));
    }
  file.metadata[kStateKey] =
      nlohmann::json{{"stage", stage_}, {"step", step}, {"seconds", seconds}, {"seed", params_.seed},
                     {"adam_steps", adam_steps}}.dump();
  safetensors::write(checkpoint_path(), file);
}

std::pair<long, double> Trainer::load_checkpoint() {
  const auto path = checkpoint_path();
  if (!fs::exists(path)) return {0, 0};
  const auto file = safetensors::read(path);
  const auto meta = file.metadata.find(kStateKey);
  if (meta == file.metadata.end())
    throw Error(ErrorKind::Corrupt, "not a training checkpoint (no train state)", Location{path, 0, 0, kStateKey});
  const auto state = nlohmann::json::parse(meta->second);
  if (state.at("stage").get<std::string>() != stage_)
    throw Error(ErrorKind::Incompatible, "this checkpoint belongs to the '" + state.at("stage").get<std::string>() +
                                             "' stage; use another output directory", Location{path});
  if (state.at("seed").get<std::uint64_t>() != params_.seed)
    throw Error(ErrorKind::InvalidArgument, "the checkpoint was made with seed " + state.at("seed").dump() +
                                                "; resume with that seed or start afresh", Location{path, 0, 0, "seed"});
  torch::NoGradGuard no_grad;
  for (const auto& group : {trained_, kept_})
    for (const auto& m : group)
      for (auto& [name, t] : named_tensors(m)) t.copy_(to_torch(find_tensor(file, name, path, t)));
  const auto adam_steps = state.at("adam_steps").get<std::int64_t>();
  auto& optimizer_state = optimizer_->state();
  for (const auto& m : trained_)
    for (const auto& p : m.module->named_parameters(true)) {
      const auto prefix = "adam." + m.name + "." + p.key();
      if (!file.find(prefix + ".exp_avg")) continue;
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(adam_steps);
      s->exp_avg(to_torch(find_tensor(file, prefix + ".exp_avg", path, p.value())).to(device_));
      s->exp_avg_sq(to_torch(find_tensor(file, prefix + ".exp_avg_sq", path, p.value())).to(device_));
      optimizer_state[adam_key(p.value())] = std::move(s);
    }
  return {state.at("step").get<long>(), state.at("seconds").get<double>()};
}

// A killed run may have logged steps past its last checkpoint: those rows are dropped, as they will be redone.
void Trainer::restart_log(long step) const {
  std::string kept = kLogHeader;
  if (step > 0 && fs::exists(log_path())) {
    std::istringstream rows(read_file_text(log_path()));
    std::string row;
    std::getline(rows, row);  // header
    while (std::getline(rows, row))
      if (!row.empty() && std::stol(row) <= step) kept += row + "\n";
  }
  write_file_atomic(log_path(), kept);
}

TrainResult Trainer::run(const StepFn& step_fn, const TrainProgressFn& progress,
                         const std::function<void()>& after_update) {
  TrainResult result;
  auto [step, seconds_before] = params_.resume ? load_checkpoint() : std::pair<long, double>{0, 0};
  result.resumed_from = step;
  restart_log(step);
  std::ofstream log(log_path(), std::ios::app);

  const auto start = Clock::now();
  auto last_checkpoint = start;
  auto elapsed = [&](Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); };
  double items = 0, window_loss = 0;
  long window_steps = 0;
  std::vector<torch::Tensor> parameters = optimizer_->param_groups().front().params();
  bool stop = false;
  while (step < params_.max_steps && !stop) {
    const double lr = lr_at(step);
    static_cast<torch::optim::AdamWOptions&>(optimizer_->param_groups().front().options()).lr(lr);
    auto rng = step_generator(params_.seed, step);
    optimizer_->zero_grad();
    const auto out = step_fn(step, rng);
    out.loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 1.0);
    optimizer_->step();
    if (after_update) after_update();
    ++step;

    const double loss = out.loss.item<double>();
    if (!std::isfinite(loss))
      throw Error(ErrorKind::Internal, "the loss became " + std::to_string(loss) + " at step " + std::to_string(step) +
                                           "; lower the learning rate and resume", Location{checkpoint_path()});
    items += out.items;
    window_loss += loss;
    ++window_steps;
    const double run_seconds = elapsed(start);
    const double rate = items / std::max(run_seconds, 1e-9);
    if (window_steps >= params_.log_every_steps || step == params_.max_steps) {
      log << step << ',' << window_loss / static_cast<double>(window_steps) << ',' << lr << ',' << rate << ','
          << seconds_before + run_seconds << '\n'
          << std::flush;
      window_loss = 0;
      window_steps = 0;
    }
    if (progress && !progress(TrainProgress{stage_, step, params_.max_steps, loss, lr, rate, run_seconds})) stop = true;
    if (params_.budget_seconds > 0 && run_seconds >= params_.budget_seconds) stop = true;
    if (stop || step == params_.max_steps || step % std::max(1L, params_.checkpoint_every_steps) == 0 ||
        elapsed(last_checkpoint) >= params_.checkpoint_every_seconds) {
      save_checkpoint(step, seconds_before + run_seconds);
      last_checkpoint = Clock::now();
    }
  }
  for (auto& m : trained_) m.module->eval();
  result.steps_done = step;
  result.finished = step >= params_.max_steps;
  result.seconds = seconds_before + elapsed(start);
  return result;
}

}  // namespace dglm::train
