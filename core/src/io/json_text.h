// SPDX-License-Identifier: GPL-3.0-or-later
// JSON text parsed with the position of a syntax error, and the fields of its objects read with errors that name
// the file and the field: every JSON file the core reads goes through these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dglm/error.h"

namespace dglm {

// Throws Error(Corrupt, "invalid JSON: ...") at the line and column of the offending byte in `source`.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

// Typed reads of one JSON object's fields. Errors are Corrupt (unless fail() is told otherwise) and carry the
// file and the field's full path ("decoder.n_heads"). Holds a reference: the JSON must outlive it.
class JsonFields {
 public:
  // `path` names the object inside the file ("" at the top); throws unless `object` is a JSON object.
  JsonFields(const nlohmann::json& object, std::string file, std::string path = {});

  bool has(const std::string& key) const { return object_.contains(key); }
  const nlohmann::json& at(const std::string& key) const;  // "missing field" when absent
  int64_t integer(const std::string& key) const;
  int positive_int(const std::string& key) const;  // 1 to 1,000,000: a size
  double number(const std::string& key) const;
  std::string string(const std::string& key) const;
  std::string non_empty_string(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;  // an array of strings
  // An array of exactly `size` finite numbers, each > 0 when `positive`.
  std::vector<float> floats(const std::string& key, std::size_t size, bool positive) const;
  JsonFields object(const std::string& key) const;
  const nlohmann::json& json() const { return object_; }

  [[noreturn]] void fail(ErrorKind kind, const std::string& key, const std::string& message) const;

 private:
  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  const nlohmann::json& object_;
  std::string file_, path_;
};

}  // namespace dglm
