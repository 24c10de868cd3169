// SPDX-License-Identifier: GPL-3.0-or-later
// What every generation method shares: parameter checks, the seeded random generator, progress and
// cancellation, batched streamed decoding of K continuations, probe scores of the results, and the mapping of
// failures to dglm::Error. DGLM (generator.cpp) and the baselines (eval/baselines.cpp) differ only in what
// they feed the decoder and how they change its logits.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "diffusion/guidance.h"
#include "dglm/generator.h"
#include "pipeline/model_impl.h"

namespace dglm::pipeline {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start);

// Thrown when a progress callback asks to stop; run_guarded() turns it into Status::Cancelled.
struct Cancelled {};

// Throws Error(InvalidArgument) naming `field` unless ok.
void require(bool ok, const std::string& field, const std::string& message);
void validate(const GenerateParams& params);
// Resolves guides to probe terms; rejects unknown probes and classes, non-finite weights; drops zero weights.
std::vector<diffusion::ProbeTerm> probe_terms(const Model::Impl& model, const std::vector<Guide>& guides);

// Validates params, then runs `generate`, turning Cancelled into Status::Cancelled and anything but a
// dglm::Error (LibTorch errors, exceptions thrown by callbacks) into Error(Internal).
GenerateResult run_guarded(const GenerateParams& params, const std::function<GenerateResult()>& generate);

// Soft prompts [B, P, d] from standardised proposals x [B, D], re-noised to signal level alpha_bar [B] with
// noise eps [B, D]: the prompt generator is told the level it sees. Shared by generation and training.
torch::Tensor soft_prompts(nn::PromptGenerator& prompt, const torch::Tensor& x, const torch::Tensor& eps,
                           const torch::Tensor& alpha_bar);

// The decoder's input embeddings [B, T, d] in DGLM's one layout, [context][soft prompts][continuation]:
// context_ids [B, C] int64 are [bos][prefix tokens], soft_prompts [B, P, d] (undefined: none, plain AR) and
// continuation_ids [B, N] int64 (undefined: none yet). Generation and the joint training of prompt generator and
// decoder both build their input here, so that the decoder is trained on exactly what it is later given.
torch::Tensor decoder_input(nn::Decoder& decoder, const torch::Tensor& context_ids, const torch::Tensor& soft_prompts,
                            const torch::Tensor& continuation_ids = {});

// What the decoder reads between context and continuation: soft prompts [K, P, d] made from the proposals
// (undefined: none, plain autoregressive decoding) and, for proposal guidance, those it contrasts them with: made
// without a proposal, or from the opposite one (undefined: no proposal guidance).
struct SoftPrompts {
  torch::Tensor proposal;
  torch::Tensor contrast;
};

// Changes the processed logits [K, V] of one decoding step before sampling. generated[k] holds sample k's
// tokens so far.
using StepLogitsHook = std::function<void(torch::Tensor& logits, const std::vector<std::vector<int>>& generated)>;

// Of candidates written `drafts` to a proposal (a proposal's consecutive), the one with the highest adherence
// per proposal, in the proposals' order.
std::vector<Candidate> most_adherent_drafts(std::vector<Candidate> candidates, int drafts);

class GenerationRun {
 public:
  GenerationRun(Model::Impl& model, const GenerateParams& params, const GenerateCallbacks& callbacks);

  // Forwards progress to the callback; throws Cancelled when it returns false.
  void report(Stage stage, float fraction);

  // [bos][prefix tokens], the prefix cut from the left (with a warning) so that `reserved` further positions
  // and max_new_tokens fit the decoder's context; throws Error(InvalidArgument) when the new tokens alone don't.
  std::vector<int64_t> decoder_context(int reserved);

  // Decodes rows() continuations of [context][soft prompts] (soft prompts [rows(), P, d]) in one batch with the
  // KV cache, the logit processors of params.decoding and `hook` (after the processors), streaming each token
  // unless there are drafts to compare first. Soft prompts on the model's device; with prompts.contrast, each
  // step's logits are mixed by params.proposal_guidance (twice the rows a pass). Every continuation starts with
  // `kept` (given, not sampled, but streamed and scored like the rest). Fills the candidates' text, tokens and
  // perplexity, and times.decode_s / first_token_s.
  void decode(const std::vector<int64_t>& context, const SoftPrompts& prompts, const StepLogitsHook& hook = {},
              const std::vector<int>& kept = {});

  // Class probabilities of every loaded probe for the re-encoded continuations (probe_scores) and, given the
  // unit-norm proposals [rows(), D] they were written from, for those too (plan_scores) and the adherence of
  // the one to the other; times.score_s.
  void score(const torch::Tensor& unit_proposals = {});

  // After score(), with drafts: keeps each sample's most adherent draft and streams its tokens.
  void keep_most_adherent_drafts();

  // The continuations decoded: params.drafts per sample, sample k's in rows [k * drafts, (k + 1) * drafts).
  int64_t rows() const { return int64_t{params.samples} * params.drafts; }
  at::Generator& rng() { return rng_; }
  GenerateResult& result() { return result_; }
  GenerateResult take_result() { return std::move(result_); }

  Model::Impl& model;
  const GenerateParams& params;

 private:
  // Appends token `id` to sample k's continuation `ids` and streams it, with the step's most likely tokens
  // (row k of top_ids / top_logprobs [K, n]; undefined: none).
  void emit(int64_t k, int id, float logprob, const torch::Tensor& top_ids, const torch::Tensor& top_logprobs,
            std::vector<int>& ids);
  // Hands sample k's token to the token callback; the first one handed sets times.first_token_s.
  void stream(int64_t k, const Token& token);
  // The continuation's text with `id` appended to `ids`.
  std::string text_with(std::vector<int> ids, int id) const;

  const GenerateCallbacks& callbacks_;
  at::Generator rng_;
  GenerateResult result_;
  Clock::time_point start_;
};

}  // namespace dglm::pipeline
