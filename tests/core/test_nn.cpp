// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "dglm/error.h"
#include "nn/blocks.h"
#include "nn/decoder.h"
#include "nn/diffusion_net.h"
#include "nn/encoder.h"
#include "nn/prompt_generator.h"
#include "test_support.h"

namespace {

using dglm::Error;
using dglm::ErrorKind;
using dglm::expect_invalid_argument;
namespace dnn = dglm::nn;

constexpr int64_t kLatent = 16;

bool close(const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-5) {
  return a.sizes() == b.sizes() && (a - b).abs().max().item<double>() <= tolerance;
}

// Gives every adaptive-norm projection non-zero weights, as training would.
void randomise_modulation(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters())
    if (item.key().find("modulation") != std::string::npos) item.value().normal_(0.0, 0.5);
}

dglm::EncoderConfig tiny_encoder_config() {
  dglm::EncoderConfig config;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 64;
  config.relative_buckets = 32;
  config.relative_max_distance = 128;
  return config;
}

dglm::DiffusionConfig tiny_diffusion_config() {
  dglm::DiffusionConfig config;
  config.d_model = 32;
  config.n_layers = 4;
  config.n_heads = 4;
  config.splice_tokens = 4;
  config.splice_dim = 8;
  return config;
}

dglm::DecoderConfig tiny_decoder_config() {
  dglm::DecoderConfig config;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.context = 24;
  return config;
}

class NnTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(7); }
};

// ---- blocks

TEST_F(NnTest, RmsNormGivesUnitRootMeanSquare) {
  dnn::RMSNorm norm(8);
  auto y = norm(torch::randn({3, 5, 8}) * 4 + 1);
  EXPECT_TRUE(close(y.pow(2).mean(-1), torch::ones({3, 5}), 1e-4));
}

TEST_F(NnTest, SelfAttentionIgnoresMaskedKeys) {
  torch::NoGradGuard no_grad;
  dnn::SelfAttention attention(16, 4);
  auto x = torch::randn({2, 5, 16});
  auto mask = torch::tensor({1, 1, 1, 0, 0}, torch::kBool).repeat({2, 1});
  auto changed = x.clone();
  changed.narrow(1, 3, 2).normal_();
  auto y = attention(x, torch::Tensor(), mask), y_changed = attention(changed, torch::Tensor(), mask);
  EXPECT_TRUE(close(y.narrow(1, 0, 3), y_changed.narrow(1, 0, 3)));
  // Without the mask the same change is visible everywhere: the mask is what hides it.
  EXPECT_FALSE(close(attention(x).narrow(1, 0, 3), attention(changed).narrow(1, 0, 3)));
}

TEST_F(NnTest, SelfAttentionAddsBias) {
  torch::NoGradGuard no_grad;
  dnn::SelfAttention attention(16, 4);
  auto x = torch::randn({1, 3, 16});
  EXPECT_FALSE(close(attention(x), attention(x, torch::randn({4, 3, 3}) * 5)));
  // A bias constant over keys is invisible to the softmax.
  EXPECT_TRUE(close(attention(x), attention(x, torch::full({4, 3, 3}, 3.0))));
}

TEST_F(NnTest, SelfAttentionRejectsIndivisibleHeads) {
  expect_invalid_argument([] { dnn::SelfAttention(10, 4); });
}

TEST_F(NnTest, NoiseLevelEmbeddingShapeAndSensitivity) {
  torch::NoGradGuard no_grad;
  dnn::NoiseLevelEmbedding embedding(16);
  auto e = embedding(torch::tensor({0.05f, 0.95f}));
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_FALSE(close(e[0], e[1], 1e-3));
  expect_invalid_argument([] { dnn::NoiseLevelEmbedding(15); });
}

TEST_F(NnTest, ConditionedBlockStartsAsPlainBlock) {
  torch::NoGradGuard no_grad;
  dnn::ConditionedBlock block(16, 4, 32);
  auto x = torch::randn({2, 3, 16}), cond = torch::randn({2, 16});
  auto h = x + block->attn(block->norm1(x));
  auto plain = h + block->ff(block->norm2(h));
  EXPECT_TRUE(close(block(x, cond), plain));

  randomise_modulation(*block);
  EXPECT_FALSE(close(block(x, cond), plain, 1e-3));
}

// ---- encoder

TEST_F(NnTest, RelativeBucketsMatchT5) {
  auto buckets = dnn::relative_position_buckets(200, 32, 128);
  auto b = [&](int64_t query, int64_t key) { return buckets[query][key].item<int64_t>(); };
  // Keys to the left use buckets 0..15, keys to the right 16..31; distances below 8 are exact.
  EXPECT_EQ(b(0, 0), 0);
  EXPECT_EQ(b(1, 0), 1);
  EXPECT_EQ(b(0, 1), 17);
  EXPECT_EQ(b(7, 0), 7);
  EXPECT_EQ(b(0, 7), 23);
  // Logarithmic beyond: 8 + floor(log(n / 8) / log(16) * 8).
  EXPECT_EQ(b(8, 0), 8);
  EXPECT_EQ(b(15, 0), 9);
  EXPECT_EQ(b(16, 0), 10);
  EXPECT_EQ(b(32, 0), 12);
  EXPECT_EQ(b(64, 0), 14);
  EXPECT_EQ(b(127, 0), 15);
  EXPECT_EQ(b(0, 16), 26);
  // Capped at max_distance and beyond.
  EXPECT_EQ(b(128, 0), 15);
  EXPECT_EQ(b(199, 0), 15);
  EXPECT_EQ(b(0, 199), 31);
  // Only the relative position matters, and both directions share the same distance buckets.
  for (int64_t query = 0; query < 200; query += 13)
    for (int64_t key = query + 1; key < 200; key += 7) {
      ASSERT_EQ(b(query, key), b(key, query) + 16);
      ASSERT_EQ(b(query, key), b(0, key - query));
    }
}

TEST_F(NnTest, EncoderOutputsUnitVectors) {
  torch::NoGradGuard no_grad;
  dnn::SemanticEncoder encoder(tiny_encoder_config(), 50, kLatent);
  auto ids = torch::randint(50, {3, 6}, torch::kLong);
  auto y = encoder(ids, torch::ones({3, 6}, torch::kBool));
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3, kLatent}));
  EXPECT_TRUE(close(y.norm(2, -1), torch::ones({3}), 1e-5));
  EXPECT_FALSE(close(y[0], y[1], 1e-3));
}

TEST_F(NnTest, EncoderIgnoresPadding) {
  torch::NoGradGuard no_grad;
  dnn::SemanticEncoder encoder(tiny_encoder_config(), 50, kLatent);
  auto ids = torch::tensor({{5, 9, 13, 2}}, torch::kLong);
  auto alone = encoder(ids, torch::ones({1, 4}, torch::kBool));

  auto filler = torch::tensor({{41, 17, 0}}, torch::kLong);
  auto right = encoder(torch::cat({ids, filler}, 1), torch::tensor({{1, 1, 1, 1, 0, 0, 0}}, torch::kBool));
  auto left = encoder(torch::cat({filler, ids}, 1), torch::tensor({{0, 0, 0, 1, 1, 1, 1}}, torch::kBool));
  EXPECT_TRUE(close(alone, right));
  EXPECT_TRUE(close(alone, left));
  // The padded tokens would matter if they were real.
  EXPECT_FALSE(close(alone, encoder(torch::cat({ids, filler}, 1), torch::ones({1, 7}, torch::kBool)), 1e-3));
}

TEST_F(NnTest, EncoderPassesGradients) {
  dnn::SemanticEncoder encoder(tiny_encoder_config(), 50, kLatent);
  auto ids = torch::randint(50, {2, 5}, torch::kLong);
  auto target = torch::randn({2, kLatent});
  (encoder(ids, torch::ones({2, 5}, torch::kBool)) * target).sum().backward();
  for (auto& item : encoder->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST_F(NnTest, EncoderParameterNamesAreReadable) {
  dnn::SemanticEncoder encoder(tiny_encoder_config(), 50, kLatent);
  auto parameters = encoder->named_parameters();
  for (const char* name : {"token_embedding.weight", "relative_attention_bias.weight",
                           "layers.0.attention.qkv.weight", "layers.1.ff_out.weight", "final_norm.weight",
                           "projection.weight"})
    EXPECT_NE(parameters.find(name), nullptr) << name;
}

// The branch starts at zero, so an encoder gains it without changing its embeddings; then it learns the rows of
// the pieces a text holds, and only those.
TEST_F(NnTest, BagOfPiecesBranchStartsAsANoOpAndLearnsThePiecesOfTheText) {
  dnn::SemanticEncoder plain(tiny_encoder_config(), 50, kLatent);
  auto config = tiny_encoder_config();
  config.bag_of_pieces_scale = 30;
  dnn::SemanticEncoder branched(config, 50, kLatent);
  {
    torch::NoGradGuard no_grad;
    auto shared = plain->named_parameters();
    for (auto& item : branched->named_parameters())
      if (const auto* value = shared.find(item.key())) item.value().copy_(*value);
  }
  const auto ids = torch::tensor({{5, 9, 13, 2}}, torch::kLong);
  const auto mask = torch::tensor({{1, 1, 1, 0}}, torch::kBool);  // piece 2 is padding
  EXPECT_TRUE(close(branched(ids, mask), plain(ids, mask)));

  (branched(ids, mask) * torch::randn({1, kLatent})).sum().backward();
  const auto gradient = branched->bag_of_pieces->weight.grad().abs().sum(1);
  EXPECT_GT(gradient[9].item<double>(), 0.0);
  EXPECT_EQ(gradient[2].item<double>(), 0.0) << "padding";
  EXPECT_EQ(gradient[10].item<double>(), 0.0) << "a piece the text lacks";

  torch::NoGradGuard no_grad;
  branched->bag_of_pieces->weight.normal_(0.0, 0.1);
  EXPECT_FALSE(close(branched(ids, mask), plain(ids, mask), 1e-3));
}

// ---- diffusion network and prompt generator

TEST_F(NnTest, DiffusionNetPredictsLatentShapedV) {
  torch::NoGradGuard no_grad;
  dnn::DiffusionNet net(tiny_diffusion_config(), kLatent);
  auto v = net(torch::randn({3, kLatent}), torch::randn({3, kLatent}), torch::rand({3}),
               torch::zeros({3}, torch::kBool));
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{3, kLatent}));
  EXPECT_EQ(net->null_embedding.sizes(), (std::vector<int64_t>{kLatent}));
  EXPECT_GT(net->null_embedding.abs().sum().item<double>(), 0.0);
}

TEST_F(NnTest, DiffusionNetNullConditionIgnoresCond) {
  torch::NoGradGuard no_grad;
  dnn::DiffusionNet net(tiny_diffusion_config(), kLatent);
  auto z = torch::randn({2, kLatent}), alpha_bar = torch::tensor({0.3f, 0.7f});
  auto cond_a = torch::randn({2, kLatent}), cond_b = torch::randn({2, kLatent});
  auto all_null = torch::ones({2}, torch::kBool), none_null = torch::zeros({2}, torch::kBool);
  EXPECT_TRUE(close(net(z, cond_a, alpha_bar, all_null), net(z, cond_b, alpha_bar, all_null)));
  EXPECT_FALSE(close(net(z, cond_a, alpha_bar, none_null), net(z, cond_b, alpha_bar, none_null), 1e-4));
  // Per row: only the first row uses the null embedding.
  auto mixed = net(z, cond_a, alpha_bar, torch::tensor({true, false}));
  EXPECT_TRUE(close(mixed[0], net(z, cond_b, alpha_bar, all_null)[0]));
  EXPECT_TRUE(close(mixed[1], net(z, cond_a, alpha_bar, none_null)[1]));
}

TEST_F(NnTest, DiffusionNetDependsOnNoiseLevelOnceModulated) {
  torch::NoGradGuard no_grad;
  dnn::DiffusionNet net(tiny_diffusion_config(), kLatent);
  auto z = torch::randn({1, kLatent}), cond = torch::randn({1, kLatent});
  auto no_null = torch::zeros({1}, torch::kBool);
  auto low = torch::tensor({0.1f}), high = torch::tensor({0.9f});
  // Zero-initialised modulation: a fresh network cannot see the noise level yet.
  EXPECT_TRUE(close(net(z, cond, low, no_null), net(z, cond, high, no_null)));
  randomise_modulation(*net);
  EXPECT_FALSE(close(net(z, cond, low, no_null), net(z, cond, high, no_null), 1e-4));
}

TEST_F(NnTest, DiffusionNetRejectsOddLayerCount) {
  auto config = tiny_diffusion_config();
  config.n_layers = 3;
  expect_invalid_argument([&] { dnn::DiffusionNet(config, kLatent); });
}

TEST_F(NnTest, PromptGeneratorShapeAndNoiseLevel) {
  torch::NoGradGuard no_grad;
  dglm::PromptConfig config;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.prompt_tokens = 3;
  dnn::PromptGenerator generator(config, kLatent, 24);
  auto latent = torch::randn({2, kLatent});
  auto low = torch::full({2}, 0.1f), high = torch::full({2}, 0.95f);
  auto prompts = generator(latent, high);
  EXPECT_EQ(prompts.sizes(), (std::vector<int64_t>{2, 3, 24}));
  EXPECT_FALSE(close(prompts, generator(torch::randn({2, kLatent}), high), 1e-4));
  EXPECT_TRUE(close(prompts, generator(latent, low)));  // zero-initialised modulation
  randomise_modulation(*generator);
  EXPECT_FALSE(close(generator(latent, low), generator(latent, high), 1e-4));
}

// ---- decoder

class DecoderTest : public NnTest {
 protected:
  static constexpr int64_t kVocab = 40;
  dnn::Decoder decoder{nullptr};
  torch::NoGradGuard no_grad;

  void SetUp() override {
    NnTest::SetUp();
    decoder = dnn::Decoder(tiny_decoder_config(), kVocab);
  }
  torch::Tensor logits(const torch::Tensor& ids, dnn::KVCache* cache = nullptr) {
    return decoder(decoder->embed_tokens(ids), cache);
  }
  // Logits of `ids` fed through the cache in chunks of the given sizes.
  torch::Tensor chunked_logits(const torch::Tensor& ids, const std::vector<int64_t>& chunks) {
    dnn::KVCache cache;
    std::vector<torch::Tensor> parts;
    int64_t start = 0;
    for (int64_t size : chunks) {
      parts.push_back(logits(ids.narrow(1, start, size), &cache));
      start += size;
      EXPECT_EQ(cache.length(), start);
    }
    return torch::cat(parts, 1);
  }
};

TEST_F(DecoderTest, LogitsShape) {
  EXPECT_EQ(logits(torch::randint(kVocab, {2, 5}, torch::kLong)).sizes(),
            (std::vector<int64_t>{2, 5, kVocab}));
}

TEST_F(DecoderTest, IsCausal) {
  auto ids = torch::randint(kVocab, {1, 8}, torch::kLong);
  auto changed = ids.clone();
  changed[0][6] = (ids[0][6].item<int64_t>() + 1) % kVocab;
  auto a = logits(ids), b = logits(changed);
  EXPECT_TRUE(close(a.narrow(1, 0, 6), b.narrow(1, 0, 6)));
  EXPECT_FALSE(close(a.narrow(1, 6, 2), b.narrow(1, 6, 2), 1e-4));
}

TEST_F(DecoderTest, KvCacheMatchesFullForward) {
  auto ids = torch::randint(kVocab, {2, 12}, torch::kLong);
  auto full = logits(ids);
  EXPECT_TRUE(close(chunked_logits(ids, {6, 1, 1, 1, 1, 1, 1}), full));
  EXPECT_TRUE(close(chunked_logits(ids, {3, 5, 1, 3}), full));
  EXPECT_TRUE(close(chunked_logits(ids, std::vector<int64_t>(12, 1)), full));
}

TEST_F(DecoderTest, BatchedRowsMatchSingleRows) {
  auto ids = torch::randint(kVocab, {3, 9}, torch::kLong);
  auto batched = chunked_logits(ids, {5, 1, 3});
  for (int64_t row = 0; row < 3; ++row)
    EXPECT_TRUE(close(batched.narrow(0, row, 1), logits(ids.narrow(0, row, 1)))) << "row " << row;
}

TEST_F(DecoderTest, RejectsInputBeyondContext) {
  expect_invalid_argument([&] { logits(torch::zeros({1, 25}, torch::kLong)); });
  dnn::KVCache cache;
  logits(torch::zeros({1, 20}, torch::kLong), &cache);
  logits(torch::zeros({1, 4}, torch::kLong), &cache);  // exactly fills the context
  expect_invalid_argument([&] { logits(torch::zeros({1, 1}, torch::kLong), &cache); });
}

TEST_F(DecoderTest, Gpt2Initialisation) {
  auto parameters = decoder->named_parameters();
  const double residual_std = 0.02 / std::sqrt(2.0 * 2);
  EXPECT_NEAR(parameters["wte.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(parameters["blocks.0.qkv.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(parameters["blocks.1.mlp_proj.weight"].std().item<double>(), residual_std, 0.001);
  EXPECT_NEAR(parameters["blocks.0.attn_proj.weight"].std().item<double>(), residual_std, 0.002);
  EXPECT_EQ(parameters["blocks.0.mlp_fc.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(close(parameters["ln_f.weight"], torch::ones({32})));
}

}  // namespace
