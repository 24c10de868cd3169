// SPDX-License-Identifier: GPL-3.0-or-later
// The safetensors format: u64 little-endian header length, a JSON header, then raw little-endian tensor bytes.
// The reader validates everything before it touches tensor data: header size, JSON shape, dtypes, shapes,
// offsets inside the data area, no overlaps, no gaps, no trailing bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dglm::safetensors {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

const char* to_string(DType dtype);
std::size_t element_size(DType dtype);

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // little-endian, row-major

  std::int64_t numel() const;
};

struct File {
  std::vector<Tensor> tensors;  // in the order of their data in the file
  std::map<std::string, std::string> metadata;

  const Tensor* find(const std::string& name) const;
};

// Largest header this reader accepts; real headers are a few KB per hundred tensors.
inline constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

// Parses bytes already in memory; `source` names them in error messages.
File parse(const std::vector<std::uint8_t>& bytes, const std::string& source);
File read(const std::string& path);

std::vector<std::uint8_t> serialize(const File& file);
// Atomic: a crash mid-write leaves any previous file intact.
void write(const std::string& path, const File& file);

}  // namespace dglm::safetensors
