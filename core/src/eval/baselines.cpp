// SPDX-License-Identifier: GPL-3.0-or-later
// Plain autoregressive sampling and token-level plug-and-play control on the shared decoding loop.
#include "dglm/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dglm/error.h"
#include "eval/token_level.h"
#include "pipeline/generation_run.h"

namespace dglm {
namespace eval {

torch::Tensor reweight_candidates(const torch::Tensor& logits, const torch::Tensor& candidates,
                                  const torch::Tensor& attribute_logprobs) {
  auto reweighted = torch::full_like(logits, -std::numeric_limits<float>::infinity());
  reweighted.scatter_(1, candidates, logits.gather(1, candidates) + attribute_logprobs.to(logits.dtype()));
  return reweighted;
}

}  // namespace eval

namespace {

// The per-step hook of token-level control: scores every live top-k candidate continuation with the probes.
class TokenLevelSteering {
 public:
  TokenLevelSteering(Model::Impl& model, std::vector<diffusion::ProbeTerm> terms, const std::string& prefix, int top_k)
      : model_(model), terms_(std::move(terms)), prefix_(prefix), top_k_(top_k) {}

  void operator()(torch::Tensor& logits, const std::vector<std::vector<int>>& generated) const {
    const auto [values, candidates] = logits.topk(std::min<int64_t>(top_k_, logits.size(1)), 1);
    auto weighted = torch::zeros(values.sizes(), torch::kFloat);
    if (!terms_.empty()) {
      // Candidates the logit processors already removed (-inf) are not worth an encoder pass.
      const auto value = values.accessor<float, 2>();
      const auto id = candidates.accessor<int64_t, 2>();
      std::vector<std::string> texts;
      std::vector<int64_t> slots;
      for (int64_t k = 0; k < values.size(0); ++k)
        for (int64_t j = 0; j < values.size(1); ++j) {
          if (!std::isfinite(value[k][j])) continue;
          auto ids = generated[static_cast<std::size_t>(k)];
          ids.push_back(static_cast<int>(id[k][j]));
          texts.push_back(prefix_ + model_.tokenizer->decode(ids));
          slots.push_back(k * values.size(1) + j);
        }
      const auto embeddings = model_.embed(texts, /*keep_end=*/true);
      auto score = torch::zeros({static_cast<int64_t>(texts.size())}, embeddings.options());
      for (const auto& term : terms_)
        score += term.weight * term.probe->log_probs(embeddings).select(1, term.target_class);
      weighted.view({-1}).index_put_({torch::tensor(slots)}, score.to(torch::kCPU, torch::kFloat));
    }
    logits = eval::reweight_candidates(logits, candidates, weighted);
  }

 private:
  Model::Impl& model_;
  std::vector<diffusion::ProbeTerm> terms_;
  const std::string& prefix_;
  int top_k_;
};

// Drafts are compared by how closely they follow their proposal, which the baselines do not have.
void require_one_draft(const GenerateParams& params, Method method) {
  pipeline::require(params.drafts == 1, "drafts",
                    std::string(to_string(method)) + " writes from no proposal to compare drafts with: use 1 or dglm");
}

}  // namespace

const char* to_string(Method method) {
  switch (method) {
    case Method::Dglm: return "dglm";
    case Method::Autoregressive: return "ar";
    case Method::TokenLevel: return "fudge";
  }
  return "?";
}

Method method_from_string(const std::string& name) {
  for (auto method : {Method::Dglm, Method::Autoregressive, Method::TokenLevel})
    if (name == to_string(method)) return method;
  throw Error(ErrorKind::InvalidArgument, "unknown method '" + name + "' (methods: dglm, ar, fudge)");
}

GenerateResult generate_autoregressive(const Model& model, const GenerateParams& params,
                                       const GenerateCallbacks& callbacks) {
  return pipeline::run_guarded(params, [&] {
    pipeline::require(params.guides.empty(), "guides",
                      "plain autoregressive sampling cannot steer: remove the guides or use dglm or fudge");
    require_one_draft(params, Method::Autoregressive);
    pipeline::GenerationRun run(*model.impl(), params, callbacks);
    run.decode(run.decoder_context(/*reserved=*/0), /*prompts=*/{});
    run.score();
    return run.take_result();
  });
}

GenerateResult generate_token_level(const Model& model, const GenerateParams& params,
                                    const TokenLevelParams& token_level, const GenerateCallbacks& callbacks) {
  return pipeline::run_guarded(params, [&] {
    pipeline::require(token_level.top_k >= 1, "top_k", "must be at least 1");
    require_one_draft(params, Method::TokenLevel);
    auto& impl = *model.impl();
    pipeline::GenerationRun run(impl, params, callbacks);
    const TokenLevelSteering steering(impl, pipeline::probe_terms(impl, params.guides), params.prefix, token_level.top_k);
    run.decode(run.decoder_context(/*reserved=*/0), /*prompts=*/{}, std::cref(steering));
    run.score();
    return run.take_result();
  });
}

GenerateResult generate_with(Method method, const Model& model, const GenerateParams& params,
                             const GenerateCallbacks& callbacks, const TokenLevelParams& token_level) {
  switch (method) {
    case Method::Autoregressive: return generate_autoregressive(model, params, callbacks);
    case Method::TokenLevel: return generate_token_level(model, params, token_level, callbacks);
    case Method::Dglm: break;
  }
  return Generator(model).run(params, callbacks);
}

}  // namespace dglm
