// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/error.h"
#include "dglm/model.h"
#include "io/json_text.h"

namespace dglm {

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  const auto root = parse_json_text(json_text, source);
  const JsonFields top(root, source);
  ModelConfig c;
  c.format_version = top.positive_int("format_version");
  if (c.format_version != kModelFormatVersion)
    top.fail(ErrorKind::Incompatible, "format_version",
             "format version " + std::to_string(c.format_version) + " is not supported (this build reads " +
                 std::to_string(kModelFormatVersion) + ")");
  c.name = top.string("name");
  c.tokenizer_file = top.string("tokenizer");
  c.vocab_size = top.positive_int("vocab_size");
  c.latent_dim = top.positive_int("latent_dim");

  const auto enc = top.object("encoder");
  c.encoder = {enc.positive_int("d_model"), enc.positive_int("n_layers"), enc.positive_int("n_heads"),
               enc.positive_int("d_ff"), enc.positive_int("max_tokens"), enc.positive_int("relative_buckets"),
               enc.positive_int("relative_max_distance")};
  if (enc.has("bag_of_pieces_scale")) {  // optional: models without the branch leave it out
    c.encoder.bag_of_pieces_scale = enc.number("bag_of_pieces_scale");
    if (!(c.encoder.bag_of_pieces_scale >= 0 && c.encoder.bag_of_pieces_scale <= 1e6))
      enc.fail(ErrorKind::Corrupt, "bag_of_pieces_scale", "must be between 0 (no branch) and 1e6");
  }
  const auto dif = top.object("diffusion");
  c.diffusion = {dif.positive_int("d_model"), dif.positive_int("n_layers"), dif.positive_int("n_heads"),
                 dif.positive_int("splice_tokens"), dif.positive_int("splice_dim")};
  const auto pg = top.object("prompt_generator");
  c.prompt = {pg.positive_int("d_model"), pg.positive_int("n_layers"), pg.positive_int("n_heads"),
              pg.positive_int("prompt_tokens")};
  const auto dec = top.object("decoder");
  c.decoder = {dec.positive_int("d_model"), dec.positive_int("n_layers"), dec.positive_int("n_heads"),
               dec.positive_int("context")};
  const auto stats = top.object("latent_stats");
  c.latent_mean = stats.floats("mean", static_cast<std::size_t>(c.latent_dim), false);
  c.latent_std = stats.floats("std", static_cast<std::size_t>(c.latent_dim), true);

  auto check_heads = [&](int d_model, int heads, const char* field) {
    if (d_model % heads != 0)
      throw Error(ErrorKind::Corrupt, "d_model " + std::to_string(d_model) + " is not divisible by n_heads " +
                                          std::to_string(heads), Location{source, 0, 0, field});
  };
  check_heads(c.encoder.d_model, c.encoder.n_heads, "encoder.n_heads");
  check_heads(c.diffusion.d_model, c.diffusion.n_heads, "diffusion.n_heads");
  check_heads(c.prompt.d_model, c.prompt.n_heads, "prompt_generator.n_heads");
  check_heads(c.decoder.d_model, c.decoder.n_heads, "decoder.n_heads");
  if (c.diffusion.n_layers % 2 != 0)
    throw Error(ErrorKind::Corrupt, "must be even (long skips pair the halves)", Location{source, 0, 0, "diffusion.n_layers"});
  if (c.decoder.context <= c.prompt.prompt_tokens)
    throw Error(ErrorKind::Corrupt, "must exceed prompt_generator.prompt_tokens", Location{source, 0, 0, "decoder.context"});
  return c;
}

int max_new_tokens(const ModelConfig& config) { return config.decoder.context - 1 - config.prompt.prompt_tokens; }

std::string model_config_to_json(const ModelConfig& c) {
  nlohmann::json root = {
      {"format_version", c.format_version},
      {"name", c.name},
      {"tokenizer", c.tokenizer_file},
      {"vocab_size", c.vocab_size},
      {"latent_dim", c.latent_dim},
      {"encoder",
       {{"d_model", c.encoder.d_model}, {"n_layers", c.encoder.n_layers}, {"n_heads", c.encoder.n_heads},
        {"d_ff", c.encoder.d_ff}, {"max_tokens", c.encoder.max_tokens},
        {"relative_buckets", c.encoder.relative_buckets},
        {"relative_max_distance", c.encoder.relative_max_distance}}},
      {"diffusion",
       {{"d_model", c.diffusion.d_model}, {"n_layers", c.diffusion.n_layers}, {"n_heads", c.diffusion.n_heads},
        {"splice_tokens", c.diffusion.splice_tokens}, {"splice_dim", c.diffusion.splice_dim}}},
      {"prompt_generator",
       {{"d_model", c.prompt.d_model}, {"n_layers", c.prompt.n_layers}, {"n_heads", c.prompt.n_heads},
        {"prompt_tokens", c.prompt.prompt_tokens}}},
      {"decoder",
       {{"d_model", c.decoder.d_model}, {"n_layers", c.decoder.n_layers}, {"n_heads", c.decoder.n_heads},
        {"context", c.decoder.context}}},
      {"latent_stats", {{"mean", c.latent_mean}, {"std", c.latent_std}}},
  };
  if (c.encoder.bag_of_pieces_scale > 0) root["encoder"]["bag_of_pieces_scale"] = c.encoder.bag_of_pieces_scale;
  return root.dump(2) + "\n";
}

}  // namespace dglm
