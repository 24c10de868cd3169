// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "dglm/safetensors.h"
#include "io/weights.h"

#include <torch/nn/modules/linear.h>

namespace dglm::safetensors {
namespace {

Tensor f32_tensor(const std::string& name, std::vector<int64_t> shape, float start) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  std::vector<float> values(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<float>(i);
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// A file from a raw header string and a data area of `data_bytes` zero bytes.
std::vector<std::uint8_t> raw_file(const std::string& header, std::size_t data_bytes) {
  std::vector<std::uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(header.size() >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes);
  return out;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    parse(bytes, "case.safetensors");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("case.safetensors"), std::string::npos) << e.what();
    return e.what();
  }
  return "accepted";
}

TEST(Safetensors, RoundTripKeepsNamesShapesDtypesBytesAndMetadata) {
  File file;
  file.metadata = {{"format", "pt"}, {"part", "decoder"}};
  file.tensors.push_back(f32_tensor("b.weight", {2, 3}, 1));
  file.tensors.push_back(f32_tensor("a.bias", {3}, -5));
  Tensor ids;
  ids.name = "ids";
  ids.dtype = DType::I64;
  ids.shape = {2};
  ids.bytes.assign(16, 7);
  file.tensors.push_back(ids);
  Tensor scalar = f32_tensor("scalar", {}, 42);
  file.tensors.push_back(scalar);

  const auto path = ::testing::TempDir() + "/roundtrip.safetensors";
  write(path, file);
  const auto back = read(path);
  ASSERT_EQ(back.tensors.size(), 4u);
  EXPECT_EQ(back.metadata, file.metadata);
  for (const auto& original : file.tensors) {
    const auto* t = back.find(original.name);
    ASSERT_NE(t, nullptr) << original.name;
    EXPECT_EQ(t->dtype, original.dtype);
    EXPECT_EQ(t->shape, original.shape);
    EXPECT_EQ(t->bytes, original.bytes);
  }
  EXPECT_EQ(back.tensors.front().name, "b.weight");  // file order is data order
}

TEST(Safetensors, HeaderIsPaddedSoDataIsAligned) {
  File file;
  file.tensors.push_back(f32_tensor("x", {1}, 0));
  const auto bytes = serialize(file);
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ((8 + header_len) % 8, 0u);
}

TEST(Safetensors, EmptyFileWithNoTensorsIsValid) {
  const auto back = parse(serialize(File{}), "empty");
  EXPECT_TRUE(back.tensors.empty());
}

struct Malformed {
  const char* what;
  std::vector<std::uint8_t> bytes;
  const char* expected;  // a distinctive piece of the message
};

TEST(Safetensors, RejectsEachMalformedFileWithItsOwnMessage) {
  const std::string ok_entry = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  std::vector<std::uint8_t> absurd(8, 0xff);
  std::vector<std::uint8_t> past_end = raw_file("{}", 0);
  past_end[0] = 200;
  const std::vector<Malformed> cases = {
      {"shorter than the length field", {1, 2, 3}, "too short for a header length"},
      {"absurd header length", absurd, "exceeds the limit"},
      {"header longer than the file", past_end, "runs past the end of the file"},
      {"header not JSON", raw_file("{not json", 0), "not valid JSON"},
      {"header a JSON array", raw_file("[1,2]", 0), "not a JSON object"},
      {"entry missing dtype", raw_file(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", 8), "missing \"dtype\""},
      {"unknown dtype", raw_file(R"({"x":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2), "unsupported dtype"},
      {"negative dimension", raw_file(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "non-negative integers"},
      {"shape overflows", raw_file(R"({"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
       "overflows"},
      {"offsets not a pair", raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
       "must be two non-negative integers"},
      {"offsets reversed", raw_file(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
       "begin after they end"},
      {"truncated data", raw_file("{\"x\":{" + ok_entry + "}}", 4), "run past the data area"},
      {"size does not match dtype and shape", raw_file(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       "need 12"},
      {"overlapping tensors",
       raw_file("{\"x\":{" + ok_entry + R"(},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "overlaps the previous tensor"},
      {"gap between tensors",
       raw_file("{\"x\":{" + ok_entry + R"(},"y":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16),
       "leaves a gap"},
      {"trailing bytes", raw_file("{\"x\":{" + ok_entry + "}}", 10), "trailing bytes"},
      {"metadata not strings", raw_file(R"({"__metadata__":{"k":1}})", 0), "metadata values must be strings"},
  };
  std::set<std::string> messages;
  for (const auto& c : cases) {
    const auto message = error_of(c.bytes);
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.what << ": got \"" << message << "\"";
    messages.insert(message);
  }
  EXPECT_EQ(messages.size(), cases.size()) << "every malformed file gets its own message";
}

TEST(Safetensors, NamesTheTensorAtFault) {
  const auto message =
      error_of(raw_file(R"({"decoder.wte":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(message.find("decoder.wte"), std::string::npos) << message;
}

// Every prefix of a valid file and random byte corruptions must give an Error or a valid file, never a crash.
TEST(Safetensors, TruncationsAndBitFlipsNeverCrash) {
  File file;
  file.tensors.push_back(f32_tensor("a", {3, 4}, 0));
  file.tensors.push_back(f32_tensor("b", {5}, 1));
  const auto good = serialize(file);
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::uint8_t> prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse(prefix, "truncated"), Error) << "prefix of " << n << " bytes";
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    auto bytes = good;
    for (int flips = 0; flips < 3; ++flips) bytes[rng() % bytes.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    try {
      const auto parsed = parse(bytes, "flipped");
      for (const auto& t : parsed.tensors)
        EXPECT_EQ(t.bytes.size(), static_cast<std::size_t>(t.numel()) * element_size(t.dtype));
    } catch (const Error&) {
    }
  }
}

TEST(Safetensors, WriteIsAtomicAndLeavesNoTemporaryFiles) {
  const auto dir = ::testing::TempDir() + "/atomic";
  std::filesystem::create_directories(dir);
  const auto path = dir + "/w.safetensors";
  File first;
  first.tensors.push_back(f32_tensor("x", {2}, 1));
  write(path, first);
  File bad;
  bad.tensors.push_back(f32_tensor("x", {2}, 1));
  bad.tensors.back().shape = {3};  // bytes no longer match: serialisation refuses before touching the file
  EXPECT_THROW(write(path, bad), Error);
  EXPECT_EQ(read(path).tensors.front().bytes, first.tensors.front().bytes);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
}

TEST(Weights, ModuleRoundTripInF32AndF16) {
  torch::nn::Linear a(4, 3), b(4, 3);
  const auto path = ::testing::TempDir() + "/linear.safetensors";
  dglm::save_module(*a, path);
  dglm::load_module(*b, path);
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  dglm::save_module(*a, path, /*half=*/true);
  torch::nn::Linear c(4, 3);
  dglm::load_module(*c, path);
  EXPECT_TRUE(torch::allclose(a->weight, c->weight, 1e-3, 1e-3));
  EXPECT_EQ(c->weight.scalar_type(), torch::kFloat32);
  EXPECT_EQ(dglm::count_parameters(*a), 15);
}

TEST(Weights, ShapeMismatchMissingAndExtraTensorsNameTheTensor) {
  const auto path = ::testing::TempDir() + "/mismatch.safetensors";
  torch::nn::Linear small(4, 3), other(5, 3);
  dglm::save_module(*small, path);
  try {
    dglm::load_module(*other, path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Incompatible);
    EXPECT_EQ(e.where().field, "weight");
  }
  torch::nn::Linear no_bias(torch::nn::LinearOptions(4, 3).bias(false));
  EXPECT_THROW(dglm::load_module(*no_bias, path), Error);  // "bias" is unexpected
  dglm::save_module(*no_bias, path);
  try {
    dglm::load_module(*small, path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(e.where().field, "bias");
  }
}

// A tensor named as one that may be missing keeps its value; any other missing tensor is still an error.
TEST(Weights, TensorsThatMayBeMissingKeepTheirValues) {
  const auto path = ::testing::TempDir() + "/no-bias.safetensors";
  torch::nn::Linear no_bias(torch::nn::LinearOptions(4, 3).bias(false)), with_bias(4, 3);
  dglm::save_module(*no_bias, path);
  const auto bias = with_bias->bias.clone();
  dglm::load_module(*with_bias, path, {"bias"});
  EXPECT_TRUE(torch::equal(with_bias->weight, no_bias->weight));
  EXPECT_TRUE(torch::equal(with_bias->bias, bias));
  EXPECT_THROW(dglm::load_module(*with_bias, path, {"weight"}), Error);
}

TEST(Weights, RejectsNonFiniteValues) {
  torch::nn::Linear a(2, 2);
  {
    torch::NoGradGuard guard;
    a->weight[0][0] = std::numeric_limits<float>::quiet_NaN();
  }
  const auto path = ::testing::TempDir() + "/nan.safetensors";
  dglm::save_module(*a, path);
  torch::nn::Linear b(2, 2);
  EXPECT_THROW(dglm::load_module(*b, path), Error);
}

}  // namespace
}  // namespace dglm::safetensors
