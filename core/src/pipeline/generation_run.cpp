// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/generation_run.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "decoding/logit_processors.h"
#include "diffusion/schedule.h"
#include "dglm/error.h"

namespace dglm::pipeline {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void require(bool ok, const std::string& field, const std::string& message) {
  if (!ok) throw Error(ErrorKind::InvalidArgument, message, Location{{}, 0, 0, field});
}

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
  require(p.drafts >= 1 && p.drafts <= kMaxDrafts, "drafts", "must be in [1, " + std::to_string(kMaxDrafts) + "]");
  require(std::isfinite(p.sigma2) && p.sigma2 >= 0 && p.sigma2 <= 1, "sigma2", "must be in [0, 1]");
  require(std::isfinite(p.proposal_guidance) && p.proposal_guidance >= 0 && p.proposal_guidance <= kMaxProposalGuidance,
          "proposal_guidance", "must be in [0, " + std::to_string(static_cast<int>(kMaxProposalGuidance)) + "]");
  require(std::isfinite(p.cfg) && p.cfg >= 0, "cfg", "must be a finite number >= 0");
  require(p.steps >= 1, "steps", "must be at least 1");
  require(p.guidance_samples >= 1, "guidance_samples", "must be at least 1");
  require(std::isfinite(p.decoding.temperature) && p.decoding.temperature > 0, "decoding.temperature", "must be > 0");
  require(std::isfinite(p.decoding.top_p) && p.decoding.top_p > 0 && p.decoding.top_p <= 1, "decoding.top_p",
          "must be in (0, 1]");
  require(std::isfinite(p.decoding.repetition_penalty) && p.decoding.repetition_penalty > 0,
          "decoding.repetition_penalty", "must be > 0");
  require(p.decoding.alternatives >= 0 && p.decoding.alternatives <= 50, "decoding.alternatives",
          "must be in [0, 50]");
}

torch::Tensor soft_prompts(nn::PromptGenerator& prompt, const torch::Tensor& x, const torch::Tensor& eps,
                           const torch::Tensor& alpha_bar) {
  return prompt->forward(diffusion::add_noise(x, eps, alpha_bar), alpha_bar);
}

torch::Tensor decoder_input(nn::Decoder& decoder, const torch::Tensor& context_ids, const torch::Tensor& soft_prompts,
                            const torch::Tensor& continuation_ids) {
  std::vector<torch::Tensor> parts{decoder->embed_tokens(context_ids)};
  if (soft_prompts.defined()) parts.push_back(soft_prompts);
  if (continuation_ids.defined()) parts.push_back(decoder->embed_tokens(continuation_ids));
  return torch::cat(parts, 1);
}

GenerateResult run_guarded(const GenerateParams& params, const std::function<GenerateResult()>& generate) {
  validate(params);
  try {
    torch::NoGradGuard no_grad;  // the diffusion sampler re-enables autograd for probe guidance only
    return generate();
  } catch (const Cancelled&) {
    GenerateResult cancelled;
    cancelled.status = Status::Cancelled;
    return cancelled;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Cancelled) {  // a callback may also stop a run by throwing Error(Cancelled)
      GenerateResult cancelled;
      cancelled.status = Status::Cancelled;
      return cancelled;
    }
    throw;
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::Internal, std::string("LibTorch: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // Most likely thrown by a callback: report it instead of letting it escape as something unexpected.
    throw Error(ErrorKind::Internal, std::string("generation failed: ") + e.what());
  }
}

GenerationRun::GenerationRun(Model::Impl& model, const GenerateParams& params, const GenerateCallbacks& callbacks)
    : model(model), params(params), callbacks_(callbacks), rng_(at::detail::createCPUGenerator(params.seed)),
      start_(Clock::now()) {}

void GenerationRun::report(Stage stage, float fraction) {
  if (callbacks_.progress && !callbacks_.progress(stage, fraction)) throw Cancelled{};
}

std::vector<int64_t> GenerationRun::decoder_context(int reserved) {
  const int context = model.info.config.decoder.context;
  const int room = context - 1 - reserved - params.max_new_tokens;
  require(room >= 0, "max_new_tokens",
          "at most " + std::to_string(context - 1 - reserved) + " new tokens fit this model's context");
  bool cut = false;
  const auto prefix_ids = model.tokens(params.prefix, static_cast<std::size_t>(room), true, &cut);
  if (cut)
    result_.warnings.push_back("the prefix was truncated from the left to its last " + std::to_string(room) +
                               " tokens to fit the decoder's context");
  std::vector<int64_t> ids{model.tokenizer->bos_id()};
  ids.insert(ids.end(), prefix_ids.begin(), prefix_ids.end());
  return ids;
}

void GenerationRun::decode(const std::vector<int64_t>& context, const SoftPrompts& prompts,
                           const StepLogitsHook& hook, const std::vector<int>& kept) {
  const auto started = Clock::now();
  const auto K = rows();
  const auto eos = model.tokenizer->eos_id();
  report(Stage::Decode, 0);
  auto history = torch::tensor(context).unsqueeze(0).expand({K, -1}).contiguous();
  const auto n_kept = static_cast<int64_t>(kept.size());
  torch::Tensor kept_ids;
  if (n_kept > 0) kept_ids = torch::tensor(std::vector<int64_t>(kept.begin(), kept.end())).unsqueeze(0).expand({K, -1});

  // Proposal guidance reads every sample twice in one batch: rows [0, K) with the proposal, [K, 2K) with what
  // it is contrasted with.
  const bool guided = prompts.contrast.defined();
  const auto both = [guided](const torch::Tensor& ids) { return guided ? torch::cat({ids, ids}) : ids; };
  const auto mixed = [guided, K, w = params.proposal_guidance](const torch::Tensor& logits) {
    if (!guided) return logits;
    const auto without = logits.narrow(0, K, K);
    return without + w * (logits.narrow(0, 0, K) - without);
  };
  const auto soft_prompts =
      guided ? torch::cat({prompts.proposal, prompts.contrast}) : prompts.proposal;
  nn::KVCache cache;
  // One pass over everything given: its last n_kept + 1 positions predict the kept tokens and the first new one.
  const auto given_logits =
      mixed(model.decoder->forward(decoder_input(model.decoder, both(history).to(model.device), soft_prompts,
                                                 n_kept > 0 ? both(kept_ids).to(model.device) : torch::Tensor()),
                                   &cache)
                .narrow(1, -(n_kept + 1), n_kept + 1))
          .to(torch::kCPU, torch::kFloat);

  const auto& d = params.decoding;
  LogitChain chain;
  if (d.repetition_penalty != 1) chain.add(std::make_unique<RepetitionPenalty>(d.repetition_penalty));
  if (d.temperature != 1) chain.add(std::make_unique<Temperature>(d.temperature));
  if (d.top_p < 1) chain.add(std::make_unique<TopP>(d.top_p));
  // Control tokens are no choice for a writer: the end of text ends it, the others write nothing.
  std::vector<int64_t> control_ids;
  for (const int id : {model.tokenizer->pad_id(), model.tokenizer->unk_id(), model.tokenizer->bos_id(), eos})
    if (id >= 0) control_ids.push_back(id);
  const auto control = torch::tensor(control_ids);
  const int64_t n_alternatives =
      std::min<int64_t>(d.alternatives, given_logits.size(2) - static_cast<int64_t>(control_ids.size()));
  // Log-probabilities [K, V] of one step and its most likely tokens.
  struct Step {
    torch::Tensor logprobs, top_logprobs, top_ids;
  };
  const auto step_of = [&](const torch::Tensor& logits) {
    Step s{torch::log_softmax(logits, -1), {}, {}};
    if (n_alternatives > 0)
      std::tie(s.top_logprobs, s.top_ids) =
          s.logprobs.index_fill(1, control, -std::numeric_limits<float>::infinity()).topk(n_alternatives, -1);
    return s;
  };

  result_.candidates.assign(static_cast<std::size_t>(K), {});
  std::vector<std::vector<int>> generated(static_cast<std::size_t>(K));
  for (int64_t i = 0; i < n_kept; ++i) {
    const auto step = step_of(given_logits.select(1, i));
    const int id = kept[static_cast<std::size_t>(i)];
    for (int64_t k = 0; k < K; ++k)
      emit(k, id, step.logprobs[k][id].item<float>(), step.top_ids, step.top_logprobs,
           generated[static_cast<std::size_t>(k)]);
    report(Stage::Decode, static_cast<float>(i + 1) / static_cast<float>(params.max_new_tokens));
  }
  if (n_kept > 0) history = torch::cat({history, kept_ids}, 1);

  auto logits = given_logits.select(1, -1);
  std::vector<bool> done(static_cast<std::size_t>(K), false);
  for (int64_t step = n_kept; step < params.max_new_tokens; ++step) {
    auto processed = logits.to(torch::kCPU, torch::kFloat).clone();
    const auto weighed = step_of(processed);
    chain.apply(processed, history);
    if (hook) hook(processed, generated);
    const auto next = sample_tokens(processed, rng_);
    for (int64_t k = 0; k < K; ++k) {
      if (done[static_cast<std::size_t>(k)]) continue;
      const int id = static_cast<int>(next[k].item<int64_t>());
      if (id == eos) {
        done[static_cast<std::size_t>(k)] = true;
        continue;
      }
      emit(k, id, weighed.logprobs[k][id].item<float>(), weighed.top_ids, weighed.top_logprobs,
           generated[static_cast<std::size_t>(k)]);
    }
    report(Stage::Decode, static_cast<float>(step + 1) / static_cast<float>(params.max_new_tokens));
    if (std::all_of(done.begin(), done.end(), [](bool finished) { return finished; }) ||
        step + 1 == params.max_new_tokens)
      break;
    history = torch::cat({history, next.unsqueeze(1)}, 1);
    logits = mixed(model.decoder->forward(model.decoder->embed_tokens(both(next.unsqueeze(1)).to(model.device)), &cache)
                       .select(1, -1));
  }
  for (auto& c : result_.candidates) {
    double nll = 0;
    for (const auto& token : c.tokens) nll -= token.logprob;
    c.perplexity = c.tokens.empty() ? 0 : std::exp(nll / static_cast<double>(c.tokens.size()));
  }
  result_.times.decode_s = seconds_since(started);
}

std::string GenerationRun::text_with(std::vector<int> ids, int id) const {
  ids.push_back(id);
  auto text = model.tokenizer->decode(ids);
  // SentencePiece drops the word-start mark of a text's first piece; after a prefix that mark is a space.
  static const std::string kWordStart = "\xe2\x96\x81";  // U+2581
  if (model.tokenizer->piece(ids.front()).rfind(kWordStart, 0) == 0) text.insert(0, " ");
  return text;
}

// Decoding the whole continuation, not the piece alone, keeps spacing right.
void GenerationRun::emit(int64_t k, int id, float logprob, const torch::Tensor& top_ids,
                         const torch::Tensor& top_logprobs, std::vector<int>& ids) {
  auto& c = result_.candidates[static_cast<std::size_t>(k)];
  const auto after = [](const std::string& text, const std::string& before) {
    return text.substr(std::min(text.size(), before.size()));
  };
  Token token{id, {}, logprob, {}};
  if (top_ids.defined()) {
    // An alternative's text, decoded after the one token before it: the same spacing as after the whole
    // continuation, at a cost that does not grow with it.
    const std::vector<int> context = ids.empty() ? std::vector<int>{} : std::vector<int>{ids.back()};
    const std::string context_text = ids.empty() ? std::string() : text_with({}, ids.back());
    for (int64_t j = 0; j < top_ids.size(1); ++j) {
      const int choice = static_cast<int>(top_ids[k][j].item<int64_t>());
      token.alternatives.push_back({choice, after(text_with(context, choice), context_text), top_logprobs[k][j].item<float>()});
    }
  }
  auto text = text_with(ids, id);
  token.text = after(text, c.text);
  ids.push_back(id);
  c.text = std::move(text);
  c.tokens.push_back(std::move(token));
  // Drafts stream once they are compared (keep_most_adherent_drafts).
  if (params.drafts == 1) stream(k, c.tokens.back());
}

void GenerationRun::stream(int64_t k, const Token& token) {
  if (result_.times.first_token_s == 0) result_.times.first_token_s = seconds_since(start_);
  if (callbacks_.token) callbacks_.token(static_cast<int>(k), token);
}

void GenerationRun::score(const torch::Tensor& unit_proposals) {
  const auto started = Clock::now();
  report(Stage::Score, 0);
  auto& candidates = result_.candidates;
  const auto fill = [&](const torch::Tensor& embeddings,
                        std::map<std::string, std::vector<float>> Candidate::*scores) {
    for (const auto& [name, probe] : model.probes) {
      const auto probs = probe.log_probs(embeddings).exp().to(torch::kCPU).contiguous();
      for (int64_t k = 0; k < rows(); ++k) {
        const auto row = probs[k];
        (candidates[static_cast<std::size_t>(k)].*scores)[name].assign(row.data_ptr<float>(),
                                                                       row.data_ptr<float>() + row.numel());
      }
    }
  };
  std::vector<std::string> texts;
  for (const auto& c : candidates) texts.push_back(c.text);
  const auto written = model.embed(texts, /*keep_end=*/false);
  fill(written, &Candidate::probe_scores);
  if (unit_proposals.defined()) {
    const auto planned = unit_proposals.to(model.device, torch::kFloat);
    fill(planned, &Candidate::plan_scores);
    // Both are unit norm, so the row-wise dot product is the cosine.
    const auto cosines = (written * planned).sum(1).to(torch::kCPU);
    for (int64_t k = 0; k < rows(); ++k)
      candidates[static_cast<std::size_t>(k)].adherence = cosines[k].item<float>();
  }
  report(Stage::Score, 1);
  result_.times.score_s = seconds_since(started);
}

std::vector<Candidate> most_adherent_drafts(std::vector<Candidate> candidates, int drafts) {
  const auto by_adherence = [](const Candidate& a, const Candidate& b) {
    return a.adherence.value_or(-2) < b.adherence.value_or(-2);
  };
  std::vector<Candidate> kept;
  for (std::size_t first = 0; first + static_cast<std::size_t>(drafts) <= candidates.size(); first += drafts) {
    const auto begin = candidates.begin() + static_cast<std::ptrdiff_t>(first);
    kept.push_back(std::move(*std::max_element(begin, begin + drafts, by_adherence)));
  }
  return kept;
}

void GenerationRun::keep_most_adherent_drafts() {
  if (params.drafts == 1) return;
  result_.candidates = most_adherent_drafts(std::move(result_.candidates), params.drafts);
  for (std::size_t k = 0; k < result_.candidates.size(); ++k)
    for (const auto& token : result_.candidates[k].tokens) stream(static_cast<int64_t>(k), token);
}

}  // namespace dglm::pipeline
