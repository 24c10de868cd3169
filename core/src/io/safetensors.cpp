// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/fileio.h"

namespace dglm::safetensors {
namespace {

using nlohmann::json;

struct DTypeName {
  DType dtype;
  const char* name;
  std::size_t size;
};
constexpr DTypeName kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

[[noreturn]] void corrupt(const std::string& source, const std::string& message, const std::string& field = {}) {
  throw Error(ErrorKind::Corrupt, message, Location{source, 0, 0, field});
}

DType parse_dtype(const json& value, const std::string& source, const std::string& name) {
  if (value.is_string()) {
    for (const auto& d : kDTypes)
      if (value.get<std::string>() == d.name) return d.dtype;
  }
  throw Error(ErrorKind::Incompatible, "unsupported dtype " + value.dump(), Location{source, 0, 0, name});
}

// Multiplies with overflow detection; a shape whose byte size overflows is corrupt.
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

struct Span {
  std::uint64_t begin, end;
  std::size_t index;
};

}  // namespace

const char* to_string(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

std::size_t element_size(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

const Tensor* File::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

File parse(const std::vector<std::uint8_t>& bytes, const std::string& source) {
  if (bytes.size() < 8) corrupt(source, "file is " + std::to_string(bytes.size()) + " bytes, too short for a header length");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[static_cast<std::size_t>(i)];
  if (header_len > kMaxHeaderBytes)
    corrupt(source, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                        std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > bytes.size() - 8)
    corrupt(source, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                        std::to_string(bytes.size()) + " bytes): truncated?");

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len));
  } catch (const json::parse_error& e) {
    corrupt(source, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) corrupt(source, "header is not a JSON object");

  const std::uint64_t data_size = bytes.size() - 8 - header_len;
  const std::uint8_t* data = bytes.data() + 8 + header_len;
  File file;
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) corrupt(source, "must be an object of strings", name);
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) corrupt(source, "metadata values must be strings", name + "." + key);
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) corrupt(source, "tensor entry is not an object", name);
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) corrupt(source, std::string("missing \"") + key + "\"", name);

    Tensor tensor;
    tensor.name = name;
    tensor.dtype = parse_dtype(entry["dtype"], source, name);
    const auto& shape = entry["shape"];
    if (!shape.is_array()) corrupt(source, "\"shape\" is not an array", name);
    std::uint64_t expected = element_size(tensor.dtype);
    for (const auto& dim : shape) {
      if (!dim.is_number_unsigned()) corrupt(source, "shape entries must be non-negative integers", name);
      const auto d = dim.get<std::uint64_t>();
      if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
          !checked_mul(expected, d, expected))
        corrupt(source, "shape " + shape.dump() + " overflows", name);
      tensor.shape.push_back(static_cast<std::int64_t>(d));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      corrupt(source, "\"data_offsets\" must be two non-negative integers", name);
    const auto begin = offsets[0].get<std::uint64_t>();
    const auto end = offsets[1].get<std::uint64_t>();
    if (begin > end) corrupt(source, "data_offsets begin after they end", name);
    if (end > data_size)
      corrupt(source, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                          ") run past the data area of " + std::to_string(data_size) + " bytes: truncated?", name);
    if (end - begin != expected)
      corrupt(source, "holds " + std::to_string(end - begin) + " bytes but dtype " + to_string(tensor.dtype) +
                          " and shape " + shape.dump() + " need " + std::to_string(expected), name);
    spans.push_back({begin, end, file.tensors.size()});
    file.tensors.push_back(std::move(tensor));
  }

  // Tensors must tile the data area exactly: no overlap (aliasing), no gaps, no trailing bytes.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::uint64_t cursor = 0;
  for (const auto& span : spans) {
    const auto& name = file.tensors[span.index].name;
    if (span.begin < cursor) corrupt(source, "overlaps the previous tensor", name);
    if (span.begin > cursor) corrupt(source, "leaves a gap of " + std::to_string(span.begin - cursor) + " bytes before it", name);
    cursor = span.end;
  }
  if (cursor != data_size)
    corrupt(source, std::to_string(data_size - cursor) + " trailing bytes after the last tensor");

  // Only now, with every offset validated, copy the data; tensors come out in file order.
  std::vector<Tensor> ordered;
  ordered.reserve(spans.size());
  for (const auto& span : spans) {
    ordered.push_back(std::move(file.tensors[span.index]));
    ordered.back().bytes.assign(data + span.begin, data + span.end);
  }
  file.tensors = std::move(ordered);
  return file;
}

File read(const std::string& path) { return parse(read_file_bytes(path), path); }

std::vector<std::uint8_t> serialize(const File& file) {
  json header = json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    std::uint64_t expected = element_size(t.dtype);
    for (auto d : t.shape) expected *= static_cast<std::uint64_t>(d);
    if (t.name.empty() || t.name == "__metadata__")
      throw Error(ErrorKind::InvalidArgument, "invalid tensor name \"" + t.name + "\"");
    if (header.contains(t.name)) throw Error(ErrorKind::InvalidArgument, "duplicate tensor name", Location{{}, 0, 0, t.name});
    if (t.bytes.size() != expected)
      throw Error(ErrorKind::InvalidArgument, "byte size does not match dtype and shape", Location{{}, 0, 0, t.name});
    header[t.name] = {{"dtype", to_string(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + expected}}};
    offset += expected;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps tensor data 8-byte aligned, as the format recommends
  std::vector<std::uint8_t> out(8 + text.size());
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(text.size() >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  out.reserve(out.size() + offset);
  for (const auto& t : file.tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

void write(const std::string& path, const File& file) {
  const auto bytes = serialize(file);
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace dglm::safetensors
