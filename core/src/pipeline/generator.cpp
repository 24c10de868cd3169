// SPDX-License-Identifier: GPL-3.0-or-later
// The data path: prefix -> encoder -> guided diffusion -> K proposals -> re-noise at sigma^2 -> soft prompts ->
// batched decoding with streaming -> re-encode -> probe scores.
#include "dglm/generator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <chrono>
#include <cmath>

#include "decoding/logit_processors.h"
#include "diffusion/guidance.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"
#include "dglm/error.h"
#include "pipeline/model_impl.h"

namespace dglm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Thrown when a progress callback asks to stop; turned into Status::Cancelled by run().
struct Cancelled {};

void require(bool ok, const std::string& field, const std::string& message) {
  if (!ok) throw Error(ErrorKind::InvalidArgument, message, Location{{}, 0, 0, field});
}

// Resolves guides to probe terms; rejects unknown probes and classes, non-finite weights.
std::vector<diffusion::ProbeTerm> probe_terms(const Model::Impl& model, const std::vector<Guide>& guides) {
  std::vector<diffusion::ProbeTerm> terms;
  for (const auto& guide : guides) {
    const auto found = model.probes.find(guide.probe);
    if (found == model.probes.end()) {
      std::string known;
      for (const auto& [name, probe] : model.probes) known += (known.empty() ? "" : ", ") + name;
      throw Error(ErrorKind::NotFound, "no probe named '" + guide.probe + "' (loaded: " +
                                           (known.empty() ? "none" : known) + ")", Location{{}, 0, 0, "guides"});
    }
    require(std::isfinite(guide.weight), "guides." + guide.probe, "weight must be a finite number");
    const auto& probe = found->second;
    const int target = guide.target_class.empty() ? static_cast<int>(probe.classes.size()) - 1
                                                  : probe.class_index(guide.target_class);
    if (guide.weight != 0) terms.push_back({&probe, guide.weight, target});
  }
  return terms;
}

void validate(const GenerateParams& p) {
  require(p.samples >= 1, "samples", "must be at least 1");
  require(p.max_new_tokens >= 1, "max_new_tokens", "must be at least 1");
  require(std::isfinite(p.sigma2) && p.sigma2 >= 0 && p.sigma2 <= 1, "sigma2", "must be in [0, 1]");
  require(std::isfinite(p.cfg) && p.cfg >= 0, "cfg", "must be a finite number >= 0");
  require(p.steps >= 1, "steps", "must be at least 1");
  require(p.guidance_samples >= 1, "guidance_samples", "must be at least 1");
  require(std::isfinite(p.decoding.temperature) && p.decoding.temperature > 0, "decoding.temperature", "must be > 0");
  require(std::isfinite(p.decoding.top_p) && p.decoding.top_p > 0 && p.decoding.top_p <= 1, "decoding.top_p",
          "must be in (0, 1]");
  require(std::isfinite(p.decoding.repetition_penalty) && p.decoding.repetition_penalty > 0,
          "decoding.repetition_penalty", "must be > 0");
}

class Run {
 public:
  Run(Model::Impl& model, const GenerateParams& params, const GenerateCallbacks& callbacks)
      : m_(model), p_(params), cb_(callbacks), rng_(at::detail::createCPUGenerator(params.seed)) {}

  GenerateResult execute() {
    const auto terms = probe_terms(m_, p_.guides);
    torch::NoGradGuard no_grad;  // the sampler re-enables autograd for guidance only
    const auto start = Clock::now();
    start_ = start;

    auto t = Clock::now();
    report(Stage::Encode, 0);
    const bool conditional = !p_.prefix.empty();
    bool prefix_cut = false;
    m_.tokens(p_.prefix, static_cast<std::size_t>(m_.info.config.encoder.max_tokens), true, &prefix_cut);
    if (prefix_cut)
      result_.warnings.push_back("the prefix was truncated from the left to the encoder's " +
                                 std::to_string(m_.info.config.encoder.max_tokens) + " tokens for the proposal");
    const auto cond = m_.standardise(m_.embed({p_.prefix}, /*keep_end=*/true));
    report(Stage::Encode, 1);
    result_.times.encode_s = seconds_since(t);

    t = Clock::now();
    const auto proposals = sample_proposals(cond, conditional, terms);
    result_.times.diffusion_s = seconds_since(t);

    t = Clock::now();
    report(Stage::Prompt, 0);
    const double a = std::max(1.0 - static_cast<double>(p_.sigma2), 1e-4);
    const auto eps = torch::randn(proposals.sizes(), rng_).to(m_.device);
    const auto renoised = diffusion::add_noise(proposals, eps, torch::full({K()}, a, torch::kFloat).to(m_.device));
    const auto soft_prompts = m_.prompt->forward(renoised, torch::full({K()}, a, torch::kFloat).to(m_.device));
    report(Stage::Prompt, 1);
    result_.times.prompt_s = seconds_since(t);

    t = Clock::now();
    decode(soft_prompts);
    result_.times.decode_s = seconds_since(t);

    t = Clock::now();
    score(proposals);
    result_.times.score_s = seconds_since(t);
    return std::move(result_);
  }

 private:
  int64_t K() const { return p_.samples; }

  void report(Stage stage, float fraction) {
    if (cb_.progress && !cb_.progress(stage, fraction)) throw Cancelled{};
  }

  torch::Tensor sample_proposals(const torch::Tensor& cond, bool conditional,
                                 const std::vector<diffusion::ProbeTerm>& terms) {
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
    if (!terms.empty())
      guidance = diffusion::probe_guidance(terms, m_.latent_mean, m_.latent_std, p_.guidance_samples, rng_);
    diffusion::SamplerParams sampler;
    sampler.kind = p_.sampler;
    sampler.steps = p_.steps;
    auto on_step = [this](int step, int steps) {
      report(Stage::Diffusion, static_cast<float>(step) / static_cast<float>(steps));
      return true;
    };
    auto x0 = diffusion::sample(
        // The sampler works on the random generator's device (the CPU); the networks on the model's.
        [&](const torch::Tensor& z, double a) { return denoiser(z.to(m_.device), a).to(z.device()); }, K(), D,
        sampler, guidance,
        rng_, on_step);
    report(Stage::Diffusion, 1);
    return x0.to(m_.device);
  }

  void decode(const torch::Tensor& soft_prompts) {
    auto& tok = *m_.tokenizer;
    const auto& dc = m_.info.config.decoder;
    const int prompt_tokens = static_cast<int>(soft_prompts.size(1));
    // [bos][prefix][soft prompts][continuation] must fit the decoder's learned positions.
    const int room = dc.context - 1 - prompt_tokens - p_.max_new_tokens;
    require(room >= 0, "max_new_tokens",
            "at most " + std::to_string(dc.context - 1 - prompt_tokens) + " new tokens fit this model's context");
    bool cut = false;
    auto prefix_ids = m_.tokens(p_.prefix, static_cast<std::size_t>(room), true, &cut);
    if (cut)
      result_.warnings.push_back("the prefix was truncated from the left to its last " + std::to_string(room) +
                                 " tokens to fit the decoder's context");
    prefix_ids.insert(prefix_ids.begin(), tok.bos_id());

    report(Stage::Decode, 0);
    std::vector<int64_t> prefix64(prefix_ids.begin(), prefix_ids.end());
    auto history = torch::tensor(prefix64).unsqueeze(0).expand({K(), -1}).contiguous();
    nn::KVCache cache;
    const auto prefix_embeddings = m_.decoder->embed_tokens(history.to(m_.device));
    auto logits = m_.decoder->forward(torch::cat({prefix_embeddings, soft_prompts}, 1), &cache).select(1, -1);

    LogitChain chain;
    if (p_.decoding.repetition_penalty != 1) chain.add(std::make_unique<RepetitionPenalty>(p_.decoding.repetition_penalty));
    if (p_.decoding.temperature != 1) chain.add(std::make_unique<Temperature>(p_.decoding.temperature));
    if (p_.decoding.top_p < 1) chain.add(std::make_unique<TopP>(p_.decoding.top_p));

    result_.candidates.assign(static_cast<std::size_t>(K()), {});
    std::vector<std::vector<int>> generated(static_cast<std::size_t>(K()));
    std::vector<bool> done(static_cast<std::size_t>(K()), false);
    for (int step = 0; step < p_.max_new_tokens; ++step) {
      auto processed = logits.to(torch::kCPU, torch::kFloat).clone();
      const auto logprobs = torch::log_softmax(processed, -1);
      chain.apply(processed, history);
      const auto next = sample_tokens(processed, rng_);
      for (int64_t k = 0; k < K(); ++k) {
        if (done[static_cast<std::size_t>(k)]) continue;
        const int id = static_cast<int>(next[k].item<int64_t>());
        if (id == tok.eos_id()) {
          done[static_cast<std::size_t>(k)] = true;
          continue;
        }
        emit(k, id, logprobs[k][id].item<float>(), generated[static_cast<std::size_t>(k)]);
      }
      report(Stage::Decode, static_cast<float>(step + 1) / static_cast<float>(p_.max_new_tokens));
      if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) || step + 1 == p_.max_new_tokens) break;
      history = torch::cat({history, next.unsqueeze(1)}, 1);
      logits = m_.decoder->forward(m_.decoder->embed_tokens(next.unsqueeze(1).to(m_.device)), &cache).select(1, -1);
    }
    for (auto& c : result_.candidates) {
      double nll = 0;
      for (const auto& token : c.tokens) nll -= token.logprob;
      c.perplexity = c.tokens.empty() ? 0 : std::exp(nll / static_cast<double>(c.tokens.size()));
    }
  }

  // Appends a token and streams the text it added (decoding the whole continuation keeps spacing right).
  void emit(int64_t k, int id, float logprob, std::vector<int>& ids) {
    auto& c = result_.candidates[static_cast<std::size_t>(k)];
    ids.push_back(id);
    auto text = m_.tokenizer->decode(ids);
    Token token{id, text.substr(std::min(text.size(), c.text.size())), logprob};
    c.text = std::move(text);
    c.tokens.push_back(token);
    if (result_.times.first_token_s == 0) result_.times.first_token_s = seconds_since(start_);
    if (cb_.token) cb_.token(static_cast<int>(k), token);
  }

  void score(const torch::Tensor& proposals) {
    report(Stage::Score, 0);
    const auto raw = m_.unstandardise(proposals);
    const auto unit_proposals = (raw / raw.norm(2, 1, true)).to(torch::kCPU);
    std::vector<std::string> texts;
    for (const auto& c : result_.candidates) texts.push_back(c.text);
    const auto embeddings = m_.embed(texts, /*keep_end=*/false);
    for (int64_t k = 0; k < K(); ++k) {
      auto& c = result_.candidates[static_cast<std::size_t>(k)];
      const auto row = unit_proposals[k].contiguous();
      c.proposal.assign(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
    }
    for (const auto& [name, probe] : m_.probes) {
      const auto probs = probe.log_probs(embeddings).exp().to(torch::kCPU).contiguous();
      for (int64_t k = 0; k < K(); ++k) {
        const auto row = probs[k];
        result_.candidates[static_cast<std::size_t>(k)].probe_scores[name].assign(
            row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
      }
    }
    report(Stage::Score, 1);
  }

  Model::Impl& m_;
  const GenerateParams& p_;
  const GenerateCallbacks& cb_;
  at::Generator rng_;
  GenerateResult result_;
  Clock::time_point start_;
};

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
  validate(params);
  try {
    return Run(*model_.impl(), params, callbacks).execute();
  } catch (const Cancelled&) {
    GenerateResult cancelled;
    cancelled.status = Status::Cancelled;
    return cancelled;
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::Internal, std::string("LibTorch: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // Most likely thrown by a callback: report it instead of letting it escape as something unexpected.
    throw Error(ErrorKind::Internal, std::string("generation failed: ") + e.what());
  }
}

}  // namespace dglm
