// SPDX-License-Identifier: GPL-3.0-or-later
#include <xxhash.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "io/weights.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace fs = std::filesystem;
namespace {

struct Part {
  const char* name;
  const char* file;
};
constexpr Part kParts[] = {{"encoder", ModelFiles::kEncoder},
                           {"diffusion", ModelFiles::kDiffusion},
                           {"prompt_generator", ModelFiles::kPrompt},
                           {"decoder", ModelFiles::kDecoder}};

ModelPartInfo describe_part(const fs::path& path) {
  const auto bytes = read_file_bytes(path.string());
  ModelPartInfo part;
  part.file = path.filename().string();
  part.bytes = static_cast<std::int64_t>(bytes.size());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH64(bytes.data(), bytes.size(), 0)));
  part.xxh64 = hex;
  for (const auto& t : safetensors::parse(bytes, path.string()).tensors) part.parameters += t.numel();
  return part;
}

ProbeInfo describe_probe(const fs::path& json_path) {
  const auto probe = load_probe((json_path.parent_path() / json_path.stem()).string());
  if (probe.name != json_path.stem().string())
    throw Error(ErrorKind::Incompatible, "probe name '" + probe.name + "' does not match its file name",
                Location{json_path.string(), 0, 0, "name"});
  return {probe.name, probe.description, probe.classes, probe.heldout_accuracy};
}

}  // namespace

ModelInfo inspect_model(const std::string& directory) {
  const fs::path dir(directory);
  if (!fs::is_directory(dir)) throw Error(ErrorKind::NotFound, "model directory does not exist", Location{directory});
  ModelInfo info;
  info.directory = fs::weakly_canonical(dir).string();
  const auto config_path = (dir / ModelFiles::kConfig).string();
  info.config = parse_model_config(read_file_text(config_path), config_path);
  for (const auto& part : kParts) info.parts[part.name] = describe_part(dir / part.file);
  if (fs::is_directory(dir / ModelFiles::kProbeDir)) {
    std::vector<fs::path> jsons;
    for (const auto& entry : fs::directory_iterator(dir / ModelFiles::kProbeDir))
      if (entry.path().extension() == ".json") jsons.push_back(entry.path());
    std::sort(jsons.begin(), jsons.end());
    for (const auto& json : jsons) info.probes.push_back(describe_probe(json));
  }
  return info;
}

void Model::Impl::build_networks(const ModelConfig& c) {
  encoder = nn::SemanticEncoder(c.encoder, c.vocab_size, c.latent_dim);
  diffusion = nn::DiffusionNet(c.diffusion, c.latent_dim);
  prompt = nn::PromptGenerator(c.prompt, c.latent_dim, c.decoder.d_model);
  decoder = nn::Decoder(c.decoder, c.vocab_size);
}

Model Model::open(const std::string& directory, Device device, const ProgressFn& progress) {
  auto step = [&](float fraction) {
    if (progress && !progress(fraction)) throw Error(ErrorKind::Cancelled, "model loading cancelled");
  };
  if (device == Device::Cuda && !cuda_available())
    throw Error(ErrorKind::InvalidArgument, "CUDA was requested but this LibTorch build has no usable CUDA device");
  step(0);
  auto impl = std::make_shared<Impl>();
  impl->info = inspect_model(directory);
  const fs::path dir(impl->info.directory);
  const auto& config = impl->info.config;
  step(0.1f);

  impl->tokenizer = load_sentencepiece((dir / config.tokenizer_file).string());
  if (impl->tokenizer->vocab_size() != config.vocab_size)
    throw Error(ErrorKind::Incompatible,
                "tokenizer has " + std::to_string(impl->tokenizer->vocab_size()) + " pieces but config.json says " +
                    std::to_string(config.vocab_size),
                Location{(dir / ModelFiles::kConfig).string(), 0, 0, "vocab_size"});
  step(0.2f);

  impl->build_networks(config);
  torch::nn::Module* modules[] = {impl->encoder.ptr().get(), impl->diffusion.ptr().get(), impl->prompt.ptr().get(),
                                  impl->decoder.ptr().get()};
  for (std::size_t i = 0; i < 4; ++i) {
    load_module(*modules[i], (dir / kParts[i].file).string());
    modules[i]->eval();
    step(0.2f + 0.18f * static_cast<float>(i + 1));
  }

  impl->device = device == Device::Cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  for (auto* m : modules) m->to(impl->device);
  impl->latent_mean = torch::tensor(config.latent_mean).to(impl->device);
  impl->latent_std = torch::tensor(config.latent_std).to(impl->device);
  Model model(std::move(impl));
  for (const auto& probe : model.impl_->info.probes)
    model.add_probe((dir / ModelFiles::kProbeDir / probe.name).string());
  step(1);
  return model;
}

const ModelInfo& Model::info() const { return impl_->info; }

Device Model::device() const { return impl_->device.is_cuda() ? Device::Cuda : Device::Cpu; }

void Model::add_probe(const std::string& path_without_extension) {
  auto probe = load_probe(path_without_extension);
  if (probe.weight.size(1) != impl_->info.config.latent_dim)
    throw Error(ErrorKind::Incompatible,
                "probe expects embeddings of size " + std::to_string(probe.weight.size(1)) + ", the model makes " +
                    std::to_string(impl_->info.config.latent_dim),
                Location{path_without_extension + ".json", 0, 0, "dim"});
  probe.weight = probe.weight.to(impl_->device);
  probe.bias = probe.bias.to(impl_->device);
  auto& listed = impl_->info.probes;
  const ProbeInfo described{probe.name, probe.description, probe.classes, probe.heldout_accuracy};
  auto existing = std::find_if(listed.begin(), listed.end(), [&](const ProbeInfo& p) { return p.name == probe.name; });
  if (existing != listed.end())
    *existing = described;
  else
    listed.push_back(described);
  impl_->probes[probe.name] = std::move(probe);
}

std::vector<int> Model::Impl::tokens(const std::string& text, std::size_t max_tokens, bool keep_end,
                                     bool* truncated) const {
  auto ids = tokenizer->encode(text);
  if (truncated) *truncated = ids.size() > max_tokens;
  if (ids.size() > max_tokens) {
    if (keep_end)
      ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(max_tokens));
    else
      ids.resize(max_tokens);
  }
  return ids;
}

torch::Tensor Model::Impl::embed(const std::vector<std::string>& texts, bool keep_end) {
  const auto max_tokens = static_cast<std::size_t>(info.config.encoder.max_tokens);
  std::vector<std::vector<int>> batch;
  std::size_t longest = 1;
  for (const auto& text : texts) {
    batch.push_back(tokens(text, max_tokens, keep_end, nullptr));
    longest = std::max(longest, batch.back().size());
  }
  const auto rows = static_cast<int64_t>(texts.size()), cols = static_cast<int64_t>(longest);
  std::vector<int64_t> ids(static_cast<std::size_t>(rows * cols), tokenizer->pad_id());
  std::vector<uint8_t> mask(ids.size(), 0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::copy(batch[i].begin(), batch[i].end(), ids.begin() + static_cast<std::ptrdiff_t>(i * longest));
    // An empty text is one pad token, so that mean pooling has something to average.
    std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(i * longest), std::max<std::size_t>(batch[i].size(), 1), 1);
  }
  const auto id_tensor = torch::tensor(ids).view({rows, cols}).to(device);
  const auto mask_tensor = torch::tensor(mask).view({rows, cols}).to(torch::kBool).to(device);
  return encoder->forward(id_tensor, mask_tensor);
}

}  // namespace dglm
