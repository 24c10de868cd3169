// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dglm/error.h"
#include "dglm/model.h"

namespace dglm {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.name = "unit";
  c.vocab_size = 100;
  c.latent_dim = 3;
  c.latent_mean = {0.1f, -0.2f, 0.3f};
  c.latent_std = {1.0f, 0.5f, 2.0f};
  return c;
}

TEST(ModelConfig, JsonRoundTrip) {
  const auto c = small_config();
  const auto back = parse_model_config(model_config_to_json(c), "config.json");
  EXPECT_EQ(back.name, "unit");
  EXPECT_EQ(back.vocab_size, 100);
  EXPECT_EQ(back.decoder.context, c.decoder.context);
  EXPECT_EQ(back.diffusion.splice_tokens, c.diffusion.splice_tokens);
  EXPECT_EQ(back.latent_std, c.latent_std);
  EXPECT_EQ(model_config_to_json(back), model_config_to_json(c));
}

// The bag-of-pieces branch is optional: configs without it (every model before it) keep their JSON, and one with
// it keeps its scale.
TEST(ModelConfig, BagOfPiecesScaleIsOptionalAndRoundTrips) {
  auto c = small_config();
  EXPECT_FALSE(nlohmann::json::parse(model_config_to_json(c))["encoder"].contains("bag_of_pieces_scale"));
  EXPECT_EQ(parse_model_config(model_config_to_json(c), "config.json").encoder.bag_of_pieces_scale, 0);
  c.encoder.bag_of_pieces_scale = 30;
  const auto back = parse_model_config(model_config_to_json(c), "config.json");
  EXPECT_EQ(back.encoder.bag_of_pieces_scale, 30);
  EXPECT_EQ(model_config_to_json(back), model_config_to_json(c));
}

// Returns the error for the config with one edit applied to its JSON.
Error error_after(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(model_config_to_json(small_config()));
  edit(j);
  try {
    parse_model_config(j.dump(), "m/config.json");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted";
  return Error(ErrorKind::Internal, "accepted");
}

TEST(ModelConfig, NamesTheFieldAtFault) {
  EXPECT_EQ(error_after([](auto& j) { j.erase("vocab_size"); }).where().field, "vocab_size");
  EXPECT_EQ(error_after([](auto& j) { j["decoder"]["n_heads"] = 0; }).where().field, "decoder.n_heads");
  EXPECT_EQ(error_after([](auto& j) { j["decoder"]["n_heads"] = 3; }).where().field, "decoder.n_heads");
  EXPECT_EQ(error_after([](auto& j) { j["encoder"]["d_model"] = "big"; }).where().field, "encoder.d_model");
  EXPECT_EQ(error_after([](auto& j) { j["diffusion"]["n_layers"] = 3; }).where().field, "diffusion.n_layers");
  EXPECT_EQ(error_after([](auto& j) { j["latent_stats"]["std"][1] = 0; }).where().field, "latent_stats.std");
  EXPECT_EQ(error_after([](auto& j) { j["latent_stats"]["mean"].erase(0); }).where().field, "latent_stats.mean");
  EXPECT_EQ(error_after([](auto& j) { j["decoder"]["context"] = 4; }).where().field, "decoder.context");
  EXPECT_EQ(error_after([](auto& j) { j["diffusion"] = 5; }).where().field, "diffusion");
  EXPECT_EQ(error_after([](auto& j) { j["encoder"]["bag_of_pieces_scale"] = -1; }).where().field,
            "encoder.bag_of_pieces_scale");
  EXPECT_EQ(error_after([](auto& j) { j["encoder"]["bag_of_pieces_scale"] = "30"; }).where().field,
            "encoder.bag_of_pieces_scale");
}

TEST(ModelConfig, NewerFormatIsIncompatibleNotCorrupt) {
  const auto e = error_after([](auto& j) { j["format_version"] = kModelFormatVersion + 1; });
  EXPECT_EQ(e.kind(), ErrorKind::Incompatible);
  EXPECT_NE(std::string(e.what()).find("m/config.json"), std::string::npos);
}

TEST(ModelConfig, SyntaxErrorsCarryLineAndColumn) {
  try {
    parse_model_config("{\n  \"name\": \"x\",\n  oops\n}", "c.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_EQ(e.where().line, 3);
    EXPECT_EQ(e.where().column, 3);
  }
}

}  // namespace
}  // namespace dglm
