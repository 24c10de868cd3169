// SPDX-License-Identifier: GPL-3.0-or-later
// torch modules <-> safetensors files.
#pragma once

#include <map>
#include <set>
#include <string>

#include <torch/nn/module.h>

#include "dglm/safetensors.h"

namespace dglm {

torch::Tensor to_torch(const safetensors::Tensor& tensor);  // a copy; f16/bf16 stay as they are
safetensors::Tensor from_torch(const std::string& name, const torch::Tensor& tensor,
                               safetensors::DType dtype = safetensors::DType::F32);

// Every parameter and buffer under its module path ("blocks.0.attn.qkv.weight"), stored as f32 or f16.
void save_module(const torch::nn::Module& module, const std::string& path, bool half = false,
                 const std::map<std::string, std::string>& metadata = {});
// Every parameter and buffer must be present with its shape, except those named in `may_be_missing`, which keep
// their values when the file lacks them; f16/bf16 are widened to the module's dtype.
// Throws Error(NotFound/Incompatible/Corrupt) naming the file and the tensor.
void load_module(torch::nn::Module& module, const std::string& path,
                 const std::set<std::string>& may_be_missing = {});

std::int64_t count_parameters(const torch::nn::Module& module);

}  // namespace dglm
