// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "io/json_text.h"

namespace dglm {
namespace {

const nlohmann::json kDocument = nlohmann::json::parse(R"({
  "size": 4, "zero": 0, "huge": 2000000, "ratio": 0.5, "name": "probe", "empty": "", "text_number": "5",
  "classes": ["a", "b"], "mixed": ["a", 2], "std": [1, 0.5], "with_zero": [1, 0],
  "decoder": {"n_heads": "two", "inner": {"x": 1}}
})");

// The field an error names when `read` fails on kDocument read as file "f.json".
template <typename Read>
Location failure(Read read) {
  const JsonFields fields(kDocument, "f.json");
  try {
    read(fields);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    return e.where();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(JsonFields, ReadsTypedFields) {
  const JsonFields fields(kDocument, "f.json");
  EXPECT_EQ(fields.positive_int("size"), 4);
  EXPECT_EQ(fields.integer("zero"), 0);
  EXPECT_DOUBLE_EQ(fields.number("ratio"), 0.5);
  EXPECT_EQ(fields.non_empty_string("name"), "probe");
  EXPECT_EQ(fields.string("empty"), "");
  EXPECT_EQ(fields.strings("classes"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fields.floats("std", 2, true), (std::vector<float>{1.0f, 0.5f}));
  EXPECT_EQ(fields.object("decoder").object("inner").integer("x"), 1);
  EXPECT_TRUE(fields.has("ratio"));
  EXPECT_FALSE(fields.has("absent"));
}

TEST(JsonFields, ErrorsNameTheFileAndTheFieldPath) {
  EXPECT_EQ(failure([](auto& f) { f.at("absent"); }).field, "absent");
  EXPECT_EQ(failure([](auto& f) { f.at("absent"); }).file, "f.json");
  EXPECT_EQ(failure([](auto& f) { f.object("decoder").positive_int("n_heads"); }).field, "decoder.n_heads");
  EXPECT_EQ(failure([](auto& f) { f.object("decoder").object("inner").string("x"); }).field, "decoder.inner.x");
  EXPECT_EQ(failure([](auto& f) { f.object("decoder").object("inner").at("y"); }).field, "decoder.inner.y");
  EXPECT_EQ(failure([](auto& f) { f.object("name"); }).field, "name");
}

TEST(JsonFields, RejectsValuesOfTheWrongKindOrRange) {
  EXPECT_EQ(failure([](auto& f) { f.integer("text_number"); }).field, "text_number");
  EXPECT_EQ(failure([](auto& f) { f.integer("ratio"); }).field, "ratio");
  EXPECT_EQ(failure([](auto& f) { f.positive_int("zero"); }).field, "zero");
  EXPECT_EQ(failure([](auto& f) { f.positive_int("huge"); }).field, "huge");
  EXPECT_EQ(failure([](auto& f) { f.number("name"); }).field, "name");
  EXPECT_EQ(failure([](auto& f) { f.string("size"); }).field, "size");
  EXPECT_EQ(failure([](auto& f) { f.non_empty_string("empty"); }).field, "empty");
  EXPECT_EQ(failure([](auto& f) { f.strings("mixed"); }).field, "mixed");
  EXPECT_EQ(failure([](auto& f) { f.strings("name"); }).field, "name");
  EXPECT_EQ(failure([](auto& f) { f.floats("std", 3, false); }).field, "std");
  EXPECT_EQ(failure([](auto& f) { f.floats("with_zero", 2, true); }).field, "with_zero");
  EXPECT_EQ(failure([](auto& f) { f.floats("classes", 2, false); }).field, "classes");
}

// Scalars are quoted in the message; containers, which may be large, only named.
TEST(JsonFields, MessagesShowScalarsAndNameContainers) {
  const JsonFields fields(kDocument, "f.json");
  auto message = [&](auto read) {
    try {
      read(fields);
    } catch (const Error& e) {
      return e.message();
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([](auto& f) { f.integer("text_number"); }), "expected an integer, got \"5\"");
  EXPECT_EQ(message([](auto& f) { f.string("classes"); }), "expected a string, got an array");
  EXPECT_EQ(message([](auto& f) { f.number("decoder"); }), "expected a number, got an object");
}

TEST(JsonFields, FailKeepsTheKindItIsGiven) {
  const JsonFields fields(kDocument, "f.json");
  try {
    fields.object("decoder").fail(ErrorKind::Incompatible, "version", "too new");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Incompatible);
    EXPECT_EQ(e.where().field, "decoder.version");
    EXPECT_EQ(e.message(), "too new");
  }
}

TEST(JsonFields, OnlyAnObjectHasFields) {
  const auto array = nlohmann::json::parse("[1, 2]");
  EXPECT_THROW(JsonFields(array, "list.json"), Error);
}

TEST(JsonText, SyntaxErrorsCarryLineAndColumn) {
  try {
    parse_json_text("{\n  \"a\": 1,\n  \"b\": ]\n}", "bad.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_EQ(e.where().file, "bad.json");
    EXPECT_EQ(e.where().line, 3);
    EXPECT_EQ(e.where().column, 8);
  }
}

}  // namespace
}  // namespace dglm
