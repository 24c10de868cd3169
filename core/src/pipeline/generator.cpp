// SPDX-License-Identifier: GPL-3.0-or-later
// The data path: prefix -> encoder -> guided diffusion -> K proposals -> re-noise at sigma^2 -> soft prompts ->
// batched decoding with streaming -> re-encode -> probe scores.
#include "dglm/generator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "diffusion/guidance.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"
#include "pipeline/generation_run.h"

namespace dglm {
namespace {

using pipeline::Clock;
using pipeline::seconds_since;

// Proposals [K, D] as the prompt generator reads them (standardised) and at unit norm, as the encoder's
// embeddings are: what the probes read and the candidates keep.
struct Proposals {
  torch::Tensor standardised, unit;
};

Proposals sampled(const Model::Impl& m, const torch::Tensor& standardised) {
  const auto raw = m.unstandardise(standardised);
  return {standardised, raw / raw.norm(2, 1, true)};
}

// A candidate's proposal (`field` of RewriteParams), checked, scaled to unit norm and repeated for K samples.
Proposals given(const Model::Impl& m, const std::vector<float>& proposal, const std::string& field, int samples) {
  const auto D = static_cast<std::size_t>(m.info.config.latent_dim);
  pipeline::require(proposal.size() == D, field,
                    "has " + std::to_string(proposal.size()) + " values; this model's embeddings have " +
                        std::to_string(D));
  const auto values = torch::tensor(proposal);
  const double norm = values.norm().item<double>();
  pipeline::require(std::isfinite(norm) && norm > 0, field, "must be finite and not all zero");
  const auto unit = (values / norm).to(m.device).unsqueeze(0).expand({samples, -1});
  return {m.standardise(unit), unit};
}

// Rows [K, D] of `rows` into each candidate's `field`.
void keep_rows(GenerateResult& result, const torch::Tensor& rows, std::vector<float> Candidate::*field) {
  const auto cpu = rows.to(torch::kCPU, torch::kFloat).contiguous();
  for (std::size_t k = 0; k < result.candidates.size(); ++k) {
    const auto row = cpu[static_cast<int64_t>(k)];
    (result.candidates[k].*field).assign(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
  }
}

// Each proposal's row repeated once per draft: the rows of GenerationRun::rows().
torch::Tensor per_draft(const torch::Tensor& proposals, int drafts) {
  return drafts == 1 ? proposals : proposals.repeat_interleave(drafts, 0);
}

// What a generation and a rewrite share once the proposals are known: re-noise them at sigma^2 into soft prompts
// (with proposal guidance, also what they are contrasted with: the opposite proposals, given, or the same noise
// at sigma^2 = 1, which keeps nothing of a proposal), decode every draft (starting with `kept`), score text and
// plan, and keep each proposal's most adherent draft.
void write_from(pipeline::GenerationRun& run, Model::Impl& m, const Proposals& plan,
                const std::optional<Proposals>& opposite, const std::vector<int>& kept = {}) {
  const auto t = Clock::now();
  run.report(Stage::Prompt, 0);
  const int drafts = run.params.drafts;
  const auto standardised = per_draft(plan.standardised, drafts);
  // Each draft re-noises its proposal afresh.
  const auto eps = torch::randn(standardised.sizes(), run.rng()).to(m.device);
  const auto prompts_of = [&](const torch::Tensor& proposals, double sigma2) {
    const auto a = torch::full({run.rows()}, diffusion::proposal_alpha_bar(sigma2), torch::kFloat).to(m.device);
    return pipeline::soft_prompts(m.prompt, proposals, eps, a);
  };
  const double sigma2 = run.params.sigma2;
  pipeline::SoftPrompts prompts{prompts_of(standardised, sigma2), {}};
  if (run.params.proposal_guidance != 1) {
    if (opposite)
      prompts.contrast = prompts_of(per_draft(opposite->standardised, drafts), sigma2);
    else if (run.params.contrast == PlanContrast::Unplanned)
      prompts.contrast = prompts_of(standardised, 1);
    // Against the guides reversed without guides: a plan contrasted with itself amplifies nothing.
  }
  run.report(Stage::Prompt, 1);
  run.result().times.prompt_s = seconds_since(t);

  // [bos][prefix][soft prompts][continuation] must fit the decoder's learned positions.
  run.decode(run.decoder_context(static_cast<int>(prompts.proposal.size(1))), prompts, {}, kept);
  run.score(per_draft(plan.unit, drafts));
  run.keep_most_adherent_drafts();
  keep_rows(run.result(), plan.unit, &Candidate::proposal);
  if (opposite) keep_rows(run.result(), opposite->unit, &Candidate::opposite_proposal);
}

// DGLM: the shared decoding loop, fed with soft prompts made from a guided diffusion proposal.
class DglmRun {
 public:
  DglmRun(Model::Impl& model, const GenerateParams& params, const GenerateCallbacks& callbacks)
      : run_(model, params, callbacks), m_(model), p_(params) {}

  GenerateResult execute() {
    const auto terms = pipeline::probe_terms(m_, p_.guides);
    auto& times = run_.result().times;

    auto t = Clock::now();
    run_.report(Stage::Encode, 0);
    const bool conditional = !p_.prefix.empty();
    bool prefix_cut = false;
    m_.tokens(p_.prefix, static_cast<std::size_t>(m_.info.config.encoder.max_tokens), true, &prefix_cut);
    if (prefix_cut)
      run_.result().warnings.push_back("the prefix was truncated from the left to the encoder's " +
                                       std::to_string(m_.info.config.encoder.max_tokens) + " tokens for the proposal");
    const auto cond = m_.standardise(m_.embed({p_.prefix}, /*keep_end=*/true));
    run_.report(Stage::Encode, 1);
    times.encode_s = seconds_since(t);

    t = Clock::now();
    const bool contrasted = p_.contrast == PlanContrast::Opposite && p_.proposal_guidance != 1 && !terms.empty();
    const auto plan = sampled(m_, sample_proposals(cond, conditional, terms, run_.rng(), 0, contrasted ? 0.5f : 1));
    std::optional<Proposals> opposite;
    if (contrasted) {
      // The same noise as the first sample (whose generator drew nothing before it), every guide reversed.
      auto reversed = terms;
      for (auto& term : reversed) term.weight = -term.weight;
      at::Generator same_noise = at::detail::createCPUGenerator(p_.seed);
      opposite = sampled(m_, sample_proposals(cond, conditional, reversed, same_noise, 0.5f, 0.5f));
    }
    run_.report(Stage::Diffusion, 1);
    times.diffusion_s = seconds_since(t);

    write_from(run_, m_, plan, opposite);
    return run_.take_result();
  }

 private:
  int64_t K() const { return p_.samples; }

  // K standardised proposals; progress reports [0, 1] of the sampler's steps as [from, from + span] of Diffusion
  // (with the opposite proposals, each of the two samplings is half of it).
  torch::Tensor sample_proposals(const torch::Tensor& cond, bool conditional,
                                 const std::vector<diffusion::ProbeTerm>& terms, at::Generator& rng, float from,
                                 float span) {
    const auto D = static_cast<int64_t>(m_.info.config.latent_dim);
    const auto cond_k = cond.expand({K(), D});
    auto network = [this, cond_k](bool use_null) {
      return [this, cond_k, use_null](const torch::Tensor& z, double a) {
        const auto n = z.size(0);
        return m_.diffusion->forward(z, cond_k.slice(0, 0, n), torch::full({n}, a, z.options()),
                                     torch::full({n}, use_null, torch::TensorOptions(torch::kBool).device(z.device())));
      };
    };
    // Without a prefix there is nothing to condition on: the unconditional network alone.
    const auto denoiser = conditional ? diffusion::cfg_denoiser(network(false), network(true), p_.cfg) : network(true);
    diffusion::GuidanceLoss guidance;
    if (!terms.empty()) {
      // The probes and statistics live on the model's device; the sampler's x_hat on the generator's.
      auto probe_loss = diffusion::probe_guidance(terms, m_.latent_mean, m_.latent_std, p_.guidance_samples, rng);
      guidance = [this, probe_loss](const torch::Tensor& x_hat, double a) { return probe_loss(x_hat.to(m_.device), a); };
    }
    diffusion::SamplerParams sampler;
    sampler.kind = p_.sampler;
    sampler.steps = p_.steps;
    auto on_step = [this, from, span](int step, int steps) {
      run_.report(Stage::Diffusion, from + span * static_cast<float>(step) / static_cast<float>(steps));
      return true;
    };
    auto x0 = diffusion::sample(
        // The sampler works on the random generator's device (the CPU); the networks on the model's.
        [&](const torch::Tensor& z, double a) { return denoiser(z.to(m_.device), a).to(z.device()); }, K(), D,
        sampler, guidance, rng, on_step);
    return x0.to(m_.device);
  }

  pipeline::GenerationRun run_;
  Model::Impl& m_;
  const GenerateParams& p_;
};

// A continuation written again from a candidate's proposal (and the one it was contrasted with), its first
// tokens given.
GenerateResult rewrite_run(Model::Impl& m, const RewriteParams& p, const GenerateParams& common,
                           const GenerateCallbacks& callbacks) {
  const auto plan = given(m, p.proposal, "proposal", p.samples);
  std::optional<Proposals> opposite;
  if (!p.opposite_proposal.empty()) opposite = given(m, p.opposite_proposal, "opposite_proposal", p.samples);
  pipeline::require(p.kept_tokens.size() <= static_cast<std::size_t>(p.max_new_tokens), "kept_tokens",
                    "holds " + std::to_string(p.kept_tokens.size()) + " tokens, more than max_new_tokens (" +
                        std::to_string(p.max_new_tokens) + ")");
  const int vocab = m.tokenizer->vocab_size();
  for (std::size_t i = 0; i < p.kept_tokens.size(); ++i) {
    const int id = p.kept_tokens[i];
    pipeline::require(id >= 0 && id < vocab && id != m.tokenizer->eos_id(), "kept_tokens",
                      "token " + std::to_string(i) + " (id " + std::to_string(id) +
                          ") is not a token this model writes");
  }
  pipeline::GenerationRun run(m, common, callbacks);
  write_from(run, m, plan, opposite, p.kept_tokens);
  return run.take_result();
}

}  // namespace

const char* to_string(Sampler sampler) { return sampler == Sampler::Ddim ? "ddim" : "ddpm"; }

const char* to_string(Stage stage) {
  switch (stage) {
    case Stage::Encode: return "encode";
    case Stage::Diffusion: return "diffusion";
    case Stage::Prompt: return "prompt";
    case Stage::Decode: return "decode";
    case Stage::Score: return "score";
  }
  return "?";
}

Generator::Generator(Model model) : model_(std::move(model)) {}

GenerateResult Generator::run(const GenerateParams& params, const GenerateCallbacks& callbacks) {
  return pipeline::run_guarded(params, [&] { return DglmRun(*model_.impl(), params, callbacks).execute(); });
}

GenerateResult Generator::rewrite(const RewriteParams& params, const GenerateCallbacks& callbacks) {
  GenerateParams common;  // the diffusion's fields stay at their (valid) defaults: a rewrite samples no proposal
  static_cast<WriteParams&>(common) = params;
  return pipeline::run_guarded(common, [&] { return rewrite_run(*model_.impl(), params, common, callbacks); });
}

}  // namespace dglm
