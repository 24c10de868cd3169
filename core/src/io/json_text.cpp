// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/json_text.h"

#include <algorithm>
#include <cmath>

namespace dglm {
namespace {

// A value as an error message shows it: scalars verbatim, containers by kind (they may be large).
std::string shown(const nlohmann::json& value) {
  return value.is_structured() ? std::string("an ") + value.type_name() : value.dump();
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    // nlohmann counts the offending byte from 1; walk the text up to it for its line and column.
    Location where{source, 1, 1, {}};
    for (std::size_t i = 0; i + 1 < error.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++where.line;
        where.column = 1;
      } else {
        ++where.column;
      }
    }
    throw Error(ErrorKind::Corrupt, std::string("invalid JSON: ") + error.what(), where);
  }
}

JsonFields::JsonFields(const nlohmann::json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object())
    throw Error(ErrorKind::Corrupt, "expected a JSON object, got " + shown(object_), Location{file_, 0, 0, path_});
}

void JsonFields::fail(ErrorKind kind, const std::string& key, const std::string& message) const {
  throw Error(kind, message, Location{file_, 0, 0, field(key)});
}

const nlohmann::json& JsonFields::at(const std::string& key) const {
  const auto it = object_.find(key);
  if (it == object_.end()) fail(ErrorKind::Corrupt, key, "missing field");
  return *it;
}

int64_t JsonFields::integer(const std::string& key) const {
  const auto& value = at(key);
  if (!value.is_number_integer()) fail(ErrorKind::Corrupt, key, "expected an integer, got " + shown(value));
  return value.get<int64_t>();
}

int JsonFields::positive_int(const std::string& key) const {
  const auto value = integer(key);
  if (value < 1 || value > 1'000'000)
    fail(ErrorKind::Corrupt, key, "expected a positive integer up to 1000000, got " + std::to_string(value));
  return static_cast<int>(value);
}

double JsonFields::number(const std::string& key) const {
  const auto& value = at(key);
  if (!value.is_number()) fail(ErrorKind::Corrupt, key, "expected a number, got " + shown(value));
  return value.get<double>();
}

std::string JsonFields::string(const std::string& key) const {
  const auto& value = at(key);
  if (!value.is_string()) fail(ErrorKind::Corrupt, key, "expected a string, got " + shown(value));
  return value.get<std::string>();
}

std::string JsonFields::non_empty_string(const std::string& key) const {
  auto value = string(key);
  if (value.empty()) fail(ErrorKind::Corrupt, key, "expected a non-empty string");
  return value;
}

std::vector<std::string> JsonFields::strings(const std::string& key) const {
  const auto& value = at(key);
  const auto is_string = [](const nlohmann::json& item) { return item.is_string(); };
  if (!value.is_array() || !std::all_of(value.begin(), value.end(), is_string))
    fail(ErrorKind::Corrupt, key, "expected an array of strings");
  return value.get<std::vector<std::string>>();
}

std::vector<float> JsonFields::floats(const std::string& key, std::size_t size, bool positive) const {
  const auto& value = at(key);
  if (!value.is_array() || value.size() != size)
    fail(ErrorKind::Corrupt, key, "expected an array of " + std::to_string(size) + " numbers");
  std::vector<float> out;
  for (const auto& x : value) {
    if (!x.is_number() || !std::isfinite(x.get<double>()) || (positive && x.get<double>() <= 0))
      fail(ErrorKind::Corrupt, key,
           "holds " + shown(x) + ", expected a finite" + (positive ? " positive" : "") + " number");
    out.push_back(x.get<float>());
  }
  return out;
}

JsonFields JsonFields::object(const std::string& key) const { return JsonFields(at(key), file_, field(key)); }

}  // namespace dglm
