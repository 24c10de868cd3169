// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/weights.h"

#include <cstring>
#include <set>

#include <torch/types.h>

#include "dglm/error.h"

namespace dglm {
namespace {

using safetensors::DType;

torch::ScalarType scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::Bool: return torch::kBool;
  }
  throw Error(ErrorKind::Internal, "unknown dtype");
}

std::string shape_text(c10::IntArrayRef shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Parameters first, then buffers, each under its full module path.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& item : module.named_parameters(true)) state.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) state.emplace_back(item.key(), item.value());
  return state;
}

}  // namespace

torch::Tensor to_torch(const safetensors::Tensor& tensor) {
  auto out = torch::empty(tensor.shape, torch::TensorOptions().dtype(scalar_type(tensor.dtype)));
  std::memcpy(out.data_ptr(), tensor.bytes.data(), tensor.bytes.size());
  return out;
}

safetensors::Tensor from_torch(const std::string& name, const torch::Tensor& tensor, DType dtype) {
  const auto contiguous = tensor.detach().to(torch::kCPU, scalar_type(dtype)).contiguous();
  safetensors::Tensor out;
  out.name = name;
  out.dtype = dtype;
  out.shape.assign(contiguous.sizes().begin(), contiguous.sizes().end());
  out.bytes.resize(static_cast<std::size_t>(contiguous.numel()) * contiguous.element_size());
  std::memcpy(out.bytes.data(), contiguous.data_ptr(), out.bytes.size());
  return out;
}

void save_module(const torch::nn::Module& module, const std::string& path, bool half,
                 const std::map<std::string, std::string>& metadata) {
  safetensors::File file;
  file.metadata = metadata;
  for (const auto& [name, tensor] : named_state(module)) {
    const bool floating = torch::isFloatingType(tensor.scalar_type());
    const auto dtype = !floating ? DType::I64 : half ? DType::F16 : DType::F32;
    file.tensors.push_back(from_torch(name, tensor, dtype));
  }
  safetensors::write(path, file);
}

void load_module(torch::nn::Module& module, const std::string& path, const std::set<std::string>& may_be_missing) {
  const auto file = safetensors::read(path);
  std::set<std::string> expected;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : named_state(module)) {
    expected.insert(name);
    const auto* stored = file.find(name);
    if (!stored && may_be_missing.count(name)) continue;
    if (!stored) throw Error(ErrorKind::NotFound, "tensor missing from the weights file", Location{path, 0, 0, name});
    const c10::IntArrayRef stored_shape(stored->shape);
    if (stored_shape != target.sizes())
      throw Error(ErrorKind::Incompatible,
                  "shape " + shape_text(stored_shape) + " does not match the model's " + shape_text(target.sizes()) +
                      " (config.json and weights disagree)",
                  Location{path, 0, 0, name});
    auto value = to_torch(*stored);
    if (torch::isFloatingType(value.scalar_type()) != torch::isFloatingType(target.scalar_type()))
      throw Error(ErrorKind::Incompatible, std::string("dtype ") + safetensors::to_string(stored->dtype) +
                                               " does not fit this tensor", Location{path, 0, 0, name});
    if (value.is_floating_point() && !torch::isfinite(value).all().item<bool>())
      throw Error(ErrorKind::Corrupt, "holds NaN or infinite values", Location{path, 0, 0, name});
    target.copy_(value.to(target.scalar_type()));
  }
  for (const auto& tensor : file.tensors)
    if (!expected.count(tensor.name))
      throw Error(ErrorKind::Incompatible, "unexpected tensor (written by another architecture?)",
                  Location{path, 0, 0, tensor.name});
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters(true)) n += p.numel();
  return n;
}

}  // namespace dglm
