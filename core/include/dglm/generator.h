// SPDX-License-Identifier: GPL-3.0-or-later
// The one entry point for writing with a model: prefix -> K guided proposals -> K streamed continuations.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dglm/model.h"

namespace dglm {

enum class Sampler { Ddpm, Ddim };
const char* to_string(Sampler sampler);

enum class PlanContrast { Unplanned, Opposite };  // GenerateParams::contrast
// Inline: the UI's settings library uses it without linking the core.
inline const char* to_string(PlanContrast contrast) {
  return contrast == PlanContrast::Opposite ? "opposite" : "unplanned";
}

// Steer with one probe: a positive weight moves proposals towards `target_class`, a negative one away.
struct Guide {
  std::string probe;
  float weight = 0;
  std::string target_class;  // empty: the probe's last class; trained probes sort their labels, so that is
                             // "positive" of negative/positive but "toxic" of non-toxic/toxic: name it
};

struct DecodingParams {
  float temperature = 1.0f;
  float top_p = 0.9f;
  float repetition_penalty = 1.2f;
  // Most likely tokens kept with each step (Token::alternatives), at most 50; 0: none (it costs a few tokenizer
  // calls per token and step).
  int alternatives = 0;
};

// WriteParams::proposal_guidance's upper bound: far beyond where the words stop reading as text.
inline constexpr float kMaxProposalGuidance = 10;

// WriteParams::drafts' upper bound: each draft decodes the whole batch once more.
inline constexpr int kMaxDrafts = 16;

// What every way of writing continuations shares: from which text, how many, how long, how closely to follow the
// proposal, and how to draw the tokens.
struct WriteParams {
  std::string prefix;        // may be empty: unconditional
  int samples = 4;           // K
  int max_new_tokens = 32;
  float sigma2 = 0.05f;      // re-noising of the proposal: 0 follows it exactly, 1 ignores it
  // Classifier-free guidance of the decoder towards the proposal: each step's logits are u + w (c - u), c read
  // with the proposal's soft prompts and u with soft prompts that carry none of it (noise level sigma^2 = 1), or
  // those of the opposite proposal (`contrast`, below).
  // 1: off, the published method (one decoder pass); above 1 the words follow the proposal, and so the guides,
  // more closely, at some fluency and diversity; each step then decodes 2K rows (on the default model, 5-20 %
  // more time per call: docs/BENCHMARKS.md); 0 writes from u alone.
  float proposal_guidance = 1.0f;
  // What proposal guidance contrasts each proposal with. Unplanned: soft prompts that carry no proposal, so the
  // words follow the plan as a whole. Opposite: a second proposal, sampled from the same noise with every guide's
  // weight reversed (a rewrite: RewriteParams::opposite_proposal), so the words show what the guides changed (on
  // the default model the sliders move the words about twice as far; docs/EVALUATION.md). It samples the
  // diffusion twice. Without guides the opposite proposal is the proposal itself, so there is nothing to
  // amplify: the call writes as with proposal guidance off.
  PlanContrast contrast = PlanContrast::Unplanned;
  // Continuations written from each proposal, of which the one that follows it most closely (the highest
  // Candidate::adherence) is kept: the words then carry more of what the guides steered (on the default model,
  // docs/EVALUATION.md, "Drafts"). 1: one, the published method; each further draft costs one more decoding of
  // every sample. Tokens stream once the drafts are compared. At most kMaxDrafts; DGLM only (the baselines write
  // from no proposal).
  int drafts = 1;
  DecodingParams decoding;
  std::uint64_t seed = 0;
};

// A generation: K proposals sampled by the diffusion model, steered by the guides, then written.
struct GenerateParams : WriteParams {
  // Classifier-free guidance weight; 1 = off (one network pass per step). Above 1 it weakens the guides' pull on
  // the proposal (on the default model: docs/EVALUATION.md, "Classifier-free guidance").
  float cfg = 1.0f;
  // Diffusion sampling steps. 10 steered and wrote as well as 50 on the default model (docs/EVALUATION.md,
  // "Sampler steps") at a fifth of the proposal's cost.
  int steps = 10;
  Sampler sampler = Sampler::Ddpm;
  int guidance_samples = 8;  // Monte-Carlo samples around x_hat per probe
  std::vector<Guide> guides;
};

enum class Stage { Encode, Diffusion, Prompt, Decode, Score };
const char* to_string(Stage stage);

// A token the decoder weighed at one step of a continuation.
struct TokenChoice {
  int id = 0;
  std::string text;   // the text it adds to the continuation before it
  float logprob = 0;  // as Token::logprob
};

struct Token {
  int id = 0;
  std::string text;      // the text this token added to the continuation
  float logprob = 0;     // natural log-probability under the decoder's sampling distribution before processors
                         // (with proposal guidance, the mixed logits' distribution)
  // The step's most likely tokens, most likely first (the sampled one too, when it was among them), control
  // tokens left out: what a writer may pick instead, to write on from there with Generator::rewrite.
  std::vector<TokenChoice> alternatives;
};

struct GenerateCallbacks {
  // Fraction of the current stage in [0, 1]; return false to cancel. Called at least once per diffusion
  // step and per decoding step.
  std::function<bool(Stage stage, float fraction)> progress;
  // Each sampled token as soon as it is decoded; with drafts, the kept draft's tokens once the drafts are compared.
  std::function<void(int sample, const Token& token)> token;
};

struct Candidate {
  std::string text;
  std::vector<Token> tokens;
  double perplexity = 0;                 // exp(mean -logprob) over the continuation's tokens
  std::vector<float> proposal;           // the sampled semantic embedding (unit norm)
  std::vector<float> opposite_proposal;  // with PlanContrast::Opposite, the proposal it was contrasted with; else empty
  std::map<std::string, std::vector<float>> probe_scores;  // probe -> class probabilities of the re-encoded text
  // probe -> class probabilities of the proposal: what the guides steered, before any word was written (DGLM
  // only; the baselines have no proposal). Set beside probe_scores, it shows how far the words followed the plan.
  std::map<std::string, std::vector<float>> plan_scores;
  // Cosine between the re-encoded text and the proposal: how closely the words followed the plan (DGLM only).
  std::optional<float> adherence;
};

struct StageTimes {
  double encode_s = 0, diffusion_s = 0, prompt_s = 0, decode_s = 0, score_s = 0;
  double first_token_s = 0;  // from the call to the first streamed token
};

// Writes a continuation again from the same proposal: its first tokens are kept as given (typically the
// tokens of a candidate up to a position, the last one replaced by one of its alternatives), the rest sampled
// afresh. The proposal is re-noised at sigma2 as in a generation.
struct RewriteParams : WriteParams {
  // Candidate::proposal of the candidate: the diffusion's sample scaled to unit norm, as the encoder's own
  // embeddings are (the rewrite starts from it, not from the unscaled sample, which is not kept).
  std::vector<float> proposal;
  // Candidate::opposite_proposal: with proposal guidance, the rewrite contrasts the proposal with it, as the
  // generation did; empty: with soft prompts that carry no proposal, or, with PlanContrast::Opposite (a
  // generation without guides), with nothing.
  std::vector<float> opposite_proposal;
  std::vector<int> kept_tokens;  // token ids the continuation starts with (max_new_tokens counts them); may be empty
};

enum class Status { Ok, Cancelled };

struct GenerateResult {
  Status status = Status::Ok;
  std::vector<Candidate> candidates;  // empty when cancelled
  StageTimes times;
  std::vector<std::string> warnings;  // e.g. "prefix truncated from the left to 96 tokens"
};

class Generator {
 public:
  explicit Generator(Model model);
  // Throws Error(InvalidArgument/NotFound) for bad params before any work. A progress callback returning
  // false, or any callback throwing Error(Cancelled), ends the run with Status::Cancelled; a dglm::Error thrown
  // by a callback passes through, any other exception is reported as Error(Internal) with its message.
  GenerateResult run(const GenerateParams& params, const GenerateCallbacks& callbacks = {});
  // As run, from a candidate's proposal instead of a diffusion sample. Kept tokens are streamed too, and the
  // candidates' tokens and perplexity cover them. Throws Error(InvalidArgument) naming the field for a
  // proposal of the wrong size, a kept token outside the vocabulary (or the end of text), or more kept tokens
  // than max_new_tokens. Progress stages: Prompt, Decode, Score.
  GenerateResult rewrite(const RewriteParams& params, const GenerateCallbacks& callbacks = {});

 private:
  Model model_;
};

}  // namespace dglm
