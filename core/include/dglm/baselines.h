// SPDX-License-Identifier: GPL-3.0-or-later
// The methods DGLM is measured against, with the same decoder, logit processors, seed handling and result
// types as Generator: plain autoregressive sampling, and token-level plug-and-play control (FUDGE-style).
#pragma once

#include <string>

#include "dglm/generator.h"

namespace dglm {

enum class Method {
  Dglm,            // Generator: guided diffusion proposal -> soft prompts -> decoding
  Autoregressive,  // the decoder alone: [bos][prefix][continuation], no proposal, no soft prompts
  TokenLevel,      // the decoder, re-weighting its top-k next tokens by the probes at every step
};
const char* to_string(Method method);  // "dglm", "ar", "fudge"
// Throws Error(InvalidArgument) listing the names.
Method method_from_string(const std::string& name);

struct TokenLevelParams {
  // Candidates per step, after the logit processors: each is appended to prefix + continuation, embedded
  // with the model's encoder (all K x top_k texts in one batch) and scored by the guides' probes.
  int top_k = 20;
};

// Plain autoregressive sampling. Diffusion settings (sigma2, proposal_guidance, cfg, steps, sampler) do not apply;
// guides are rejected with Error(InvalidArgument) because this method cannot steer, and so are drafts (there is no
// proposal to compare them with; the same for token-level control). probe_scores are filled as
// in Generator; proposal stays empty; times has no encode/diffusion/prompt part.
GenerateResult generate_autoregressive(const Model& model, const GenerateParams& params,
                                       const GenerateCallbacks& callbacks = {});

// Token-level plug-and-play control: at each step the top-k next tokens t get probability
//   p(t | x) * prod_g p_g(target_g | E(prefix + continuation + t))^weight_g
// renormalised over the top k (a negative weight steers away from the target class). Without active guides it
// is autoregressive sampling restricted to the top k.
GenerateResult generate_token_level(const Model& model, const GenerateParams& params,
                                    const TokenLevelParams& token_level = {}, const GenerateCallbacks& callbacks = {});

// One entry point for the three methods (the CLI, bench and eval use it).
GenerateResult generate_with(Method method, const Model& model, const GenerateParams& params,
                             const GenerateCallbacks& callbacks = {}, const TokenLevelParams& token_level = {});

}  // namespace dglm
