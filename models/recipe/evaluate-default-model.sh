#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Measures the default model as docs/EVALUATION.md and the model card report it: steering judged by classifiers
# that share no training data with the probes, DGLM against plain AR and token-level control (FUDGE-style),
# guidance-weight, CFG, sampler-step, sigma^2 and proposal-guidance sweeps, drafts, two-probe composition, and how
# far the words follow plans that are the embeddings of real texts of each class.
# Each part writes a Markdown table and a CSV (rewritten after every setting, so a stopped run keeps what it
# measured); `plots` draws PNGs from the CSVs. Usage, after train-default-model.sh and a release build:
#   models/recipe/evaluate-default-model.sh [WORK_DIR] [MODEL_DIR] [REPORT_DIR]
#   (defaults: build/train, models/default, build/eval)
# Judges: the probes' independent judges (trained on disjoint data, in WORK_DIR/judges) and two lexicon judges
# (build-probe-data.sh writes them to PROBE_DATA, default build/probe-data): AFINN-165 for sentiment and the
# naughty-words list, which share neither data nor the encoder with the probes.
# Environment: EVAL_PARTS (any of steering baselines weights cfg cfg-guided steps sigma2 proposal-guidance
#   contrast drafts writer-defaults register composition real-plans plots; default all),
#   PROMPTS (held-out prompts, default 40), SAMPLES (per prompt for steering and the sigma^2 ablation, default
#   25; baselines use BASELINE_SAMPLES, default 10; sweeps SWEEP_SAMPLES, default 5), WEIGHT (the "clearly
#   steered" guidance weight, default 30), SCORER (the fluency scorer's model directory, default one assembled
#   from WORK_DIR's pre-trained decoder), THREADS (LibTorch threads per run, default all cores), DGLM / DGLM_PLOT (programs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-build/train}
model=${2:-models/default}
out=${3:-build/eval}
dglm=${DGLM:-$root/build/release/bin/dglm}
plot=${DGLM_PLOT:-$(dirname "$dglm")/dglm-plot}
prompts=${PROMPTS:-40}
weight=${WEIGHT:-30}
all_parts="steering baselines weights cfg cfg-guided steps sigma2 proposal-guidance contrast drafts writer-defaults register composition real-plans plots"
parts=" ${EVAL_PARTS:-$all_parts} "
want() { [[ $parts == *" $1 "* ]]; }
config=$root/models/recipe/default-config.json
lexicons=${PROBE_DATA:-build/probe-data}
export OMP_WAIT_POLICY=passive
mkdir -p "$out"

# The scorer of fluency: the language model as pre-trained, before joint training adapted it to soft prompts,
# so the decoder that wrote a text never scores it. (It shares training text with the generator: no other
# English language model exists on this machine; see the model card.)
# A model made by warm starts (continue-default-model.sh) is scored by the model it started from: SCORER=DIR.
scorer=${SCORER:-$out/scorer}
[ -f "$scorer/config.json" ] ||
  "$dglm" train assemble "$scorer" --config "$config" --tokenizer "$work/tokenizer.model" \
    --encoder "$work/encoder/encoder.safetensors" --diffusion "$work/diffusion/diffusion.safetensors" \
    --prompt "$work/joint/prompt_generator.safetensors" --decoder "$work/decoder/decoder.safetensors" \
    --stats "$work/latent-stats.json"

[ -f "$out/prompts.jsonl" ] ||
  "$dglm" eval "$model" --scorer "$scorer" --make-prompts build/corpus/valid.txt --count "$prompts" \
    --prefix-tokens 32 --continuation-tokens 32 --save-prompts "$out/prompts.jsonl" --samples 1 --tokens 1 -o "$out/prompts-check.md"

# evaluate NAME SAMPLES TOKENS [OPTIONS and --setting ...]: one part's Markdown and CSV.
evaluate() {
  local name=$1 samples=$2 tokens=$3
  shift 3
  "$dglm" ${THREADS:+--threads "$THREADS"} eval "$model" --scorer "$scorer" --prompts "$out/prompts.jsonl" \
    --seed 7 --samples "$samples" --tokens "$tokens" -o "$out/$name.md" --csv "$out/$name.csv" \
    --judge "judge-sentiment=$work/judges/judge-sentiment" --judge "judge-offensive=$work/judges/judge-offensive" \
    --judge "judge-topic=$work/judges/judge-topic" --lexicon-judge "afinn=$lexicons/sentiment-lexicon.json" \
    --lexicon-judge "naughty-words=$lexicons/offensive-lexicon.json" "$@"
}
w=$weight
samples=${SAMPLES:-25}
sweep=${SWEEP_SAMPLES:-5}

want steering && evaluate steering "$samples" 20 \
  --setting "unguided" \
  --setting "positive;guide=sentiment=+$w" --setting "negative;guide=sentiment=-$w" \
  --setting "avoid offensive;guide=offensive=-$w" \
  --setting "topic science;guide=topic=$w:science" --setting "topic politics;guide=topic=$w:politics"

# The same probes steer every method; FUDGE's weight is an exponent on the probe's probability (1 = Bayes).
want baselines && evaluate baselines "${BASELINE_SAMPLES:-10}" 20 --mauve \
  --setting "DGLM unguided" --setting "AR;method=ar" \
  --setting "DGLM science;guide=topic=$w:science" --setting "FUDGE science x1;method=fudge;guide=topic=1:science" \
  --setting "FUDGE science;method=fudge;guide=topic=$w:science" \
  --setting "DGLM positive;guide=sentiment=+$w" --setting "FUDGE positive;method=fudge;guide=sentiment=+$w" \
  --setting "DGLM avoid offensive;guide=offensive=-$w" \
  --setting "FUDGE avoid offensive;method=fudge;guide=offensive=-$w"

# Weight 0 is the unguided run, repeated per probe so that each sweep's curve starts at 0.
want weights && evaluate weights "$sweep" 20 \
  --setting "sentiment 0;guide=sentiment=0" --setting "sentiment +10;guide=sentiment=10" \
  --setting "sentiment +30;guide=sentiment=30" --setting "sentiment +100;guide=sentiment=100" \
  --setting "sentiment -10;guide=sentiment=-10" --setting "sentiment -30;guide=sentiment=-30" \
  --setting "sentiment -100;guide=sentiment=-100" \
  --setting "offensive 0;guide=offensive=0" --setting "offensive -10;guide=offensive=-10" \
  --setting "offensive -30;guide=offensive=-30" --setting "offensive -100;guide=offensive=-100" \
  --setting "offensive -300;guide=offensive=-300" \
  --setting "science 0;guide=topic=0:science" --setting "science 3;guide=topic=3:science" \
  --setting "science 10;guide=topic=10:science" --setting "science 30;guide=topic=30:science" \
  --setting "science 100;guide=topic=100:science"

# Open-ended protocol for CFG and sigma^2: 32-token continuations, MAUVE against the human ones.
want cfg && evaluate cfg "$sweep" 32 --mauve \
  --setting "cfg 1;cfg=1" --setting "cfg 1.5;cfg=1.5" --setting "cfg 2;cfg=2" --setting "cfg 3;cfg=3" \
  --setting "cfg 5;cfg=5"

# CFG with the probes: the steering settings at CFG 2, with and without proposal guidance 3 (CFG 1 is the
# steering and proposal-guidance parts).
want cfg-guided && evaluate cfg-guided "$samples" 20 \
  --setting "unguided cfg2 pg3;cfg=2;proposal_guidance=3" \
  --setting "positive cfg2 pg3;guide=sentiment=+$w;cfg=2;proposal_guidance=3" \
  --setting "negative cfg2 pg3;guide=sentiment=-$w;cfg=2;proposal_guidance=3" \
  --setting "avoid offensive cfg2 pg3;guide=offensive=-$w;cfg=2;proposal_guidance=3" \
  --setting "topic science cfg2 pg3;guide=topic=$w:science;cfg=2;proposal_guidance=3" \
  --setting "topic politics cfg2 pg3;guide=topic=$w:politics;cfg=2;proposal_guidance=3" \
  --setting "unguided cfg2;cfg=2" --setting "positive cfg2;guide=sentiment=+$w;cfg=2" \
  --setting "negative cfg2;guide=sentiment=-$w;cfg=2"

want steps && evaluate steps "$sweep" 20 \
  --setting "science, 5 steps;steps=5;guide=topic=$w:science" --setting "science, 10 steps;steps=10;guide=topic=$w:science" \
  --setting "science, 20 steps;steps=20;guide=topic=$w:science" --setting "science, 50 steps;steps=50;guide=topic=$w:science" \
  --setting "unguided, 10 steps;steps=10" --setting "unguided, 50 steps;steps=50"

want sigma2 && evaluate sigma2 "$samples" 32 --mauve \
  --setting "sigma2 0;sigma2=0" --setting "sigma2 0.05;sigma2=0.05" --setting "sigma2 0.2;sigma2=0.2" \
  --setting "sigma2 0.5;sigma2=0.5" --setting "sigma2 1;sigma2=1"

# Proposal guidance (the decoder's CFG towards the plan): the steering protocol at 2 and 3, the clearly steered
# sentiment at 3 (also at temperature 0.7), and the open-ended protocol over the weight (1 is the steering and
# sigma^2 parts' setting).
if want proposal-guidance; then
  steered=()
  for g in 2 3; do
    steered+=(--setting "unguided pg$g;proposal_guidance=$g"
      --setting "positive pg$g;guide=sentiment=+$w;proposal_guidance=$g"
      --setting "negative pg$g;guide=sentiment=-$w;proposal_guidance=$g"
      --setting "avoid offensive pg$g;guide=offensive=-$w;proposal_guidance=$g"
      --setting "topic science pg$g;guide=topic=$w:science;proposal_guidance=$g"
      --setting "topic politics pg$g;guide=topic=$w:politics;proposal_guidance=$g")
  done
  evaluate proposal-guidance "$samples" 20 "${steered[@]}" \
    --setting "positive +100 pg3;guide=sentiment=+100;proposal_guidance=3" \
    --setting "negative -100 pg3;guide=sentiment=-100;proposal_guidance=3"
  evaluate proposal-guidance-cool "$samples" 20 \
    --setting "positive +100 t0.7 pg3;guide=sentiment=+100;temperature=0.7;proposal_guidance=3" \
    --setting "negative -100 t0.7 pg3;guide=sentiment=-100;temperature=0.7;proposal_guidance=3"
  evaluate proposal-guidance-open "$samples" 32 --mauve \
    --setting "pg 1;proposal_guidance=1" --setting "pg 1.5;proposal_guidance=1.5" \
    --setting "pg 2;proposal_guidance=2" --setting "pg 3;proposal_guidance=3" --setting "pg 4;proposal_guidance=4"
fi

# Proposal guidance against the guides reversed: the steering protocol's guided settings at 2 and 3 (sentiment
# also at +-50), each plan contrasted with the one the same noise gives under the opposite weights.
want contrast && evaluate contrast "$samples" 20 \
  --setting "positive contrast pg2;guide=sentiment=+$w;proposal_guidance=2;contrast=opposite" \
  --setting "negative contrast pg2;guide=sentiment=-$w;proposal_guidance=2;contrast=opposite" \
  --setting "positive contrast pg3;guide=sentiment=+$w;proposal_guidance=3;contrast=opposite" \
  --setting "negative contrast pg3;guide=sentiment=-$w;proposal_guidance=3;contrast=opposite" \
  --setting "avoid offensive contrast pg3;guide=offensive=-$w;proposal_guidance=3;contrast=opposite" \
  --setting "topic science contrast pg3;guide=topic=$w:science;proposal_guidance=3;contrast=opposite" \
  --setting "topic politics contrast pg3;guide=topic=$w:politics;proposal_guidance=3;contrast=opposite" \
  --setting "positive +50 contrast pg3;guide=sentiment=+50;proposal_guidance=3;contrast=opposite" \
  --setting "negative -50 contrast pg3;guide=sentiment=-50;proposal_guidance=3;contrast=opposite"

# Drafts: the steering protocol with each plan written four times, the most adherent draft kept (adherence is
# then selected for: judge the steering by the judges' columns), then 2 and 8 drafts for two of its settings, and
# sentiment with drafts and proposal guidance 2.
want drafts && evaluate drafts "$samples" 20 \
  --setting "positive, 4 drafts;guide=sentiment=+$w;drafts=4" --setting "negative, 4 drafts;guide=sentiment=-$w;drafts=4" \
  --setting "unguided, 4 drafts;drafts=4" --setting "avoid offensive, 4 drafts;guide=offensive=-$w;drafts=4" \
  --setting "topic science, 4 drafts;guide=topic=$w:science;drafts=4" \
  --setting "topic politics, 4 drafts;guide=topic=$w:politics;drafts=4" \
  --setting "positive +100, 4 drafts;guide=sentiment=+100;drafts=4"
want drafts && evaluate drafts-count "$samples" 20 \
  --setting "positive, 2 drafts;guide=sentiment=+$w;drafts=2" --setting "positive, 8 drafts;guide=sentiment=+$w;drafts=8" \
  --setting "topic science, 2 drafts;guide=topic=$w:science;drafts=2" \
  --setting "topic science, 8 drafts;guide=topic=$w:science;drafts=8"
want drafts && evaluate drafts-plan-guidance "$samples" 20 \
  --setting "positive, 4 drafts, pg2;guide=sentiment=+$w;drafts=4;proposal_guidance=2" \
  --setting "positive, 4 drafts, contrast pg2;guide=sentiment=+$w;drafts=4;proposal_guidance=2;contrast=opposite" \
  --setting "negative, 4 drafts, contrast pg2;guide=sentiment=-$w;drafts=4;proposal_guidance=2;contrast=opposite"

# The steering protocol at the writer app's defaults (ui/guidance/GenerationSettings.h): plan guidance 2 against
# the sliders reversed, 4 drafts; without a slider that is 4 drafts alone.
app="drafts=4;proposal_guidance=2;contrast=opposite"
want writer-defaults && evaluate writer-defaults "$samples" 20 \
  --setting "unguided;$app" --setting "positive;guide=sentiment=+$w;$app" \
  --setting "negative;guide=sentiment=-$w;$app" --setting "avoid offensive;guide=offensive=-$w;$app" \
  --setting "topic science;guide=topic=$w:science;$app" --setting "topic politics;guide=topic=$w:politics;$app"

# The register probe alone and composed with positive sentiment, without and with proposal guidance.
want register && evaluate register "$samples" 20 \
  --setting "review;guide=register=+$w:review" \
  --setting "positive + review;guide=sentiment=+$w;guide=register=+$w:review" \
  --setting "positive + review pg3;guide=sentiment=+$w;guide=register=+$w:review;proposal_guidance=3" \
  --setting "positive +100 + review pg3;guide=sentiment=+100;guide=register=+$w:review;proposal_guidance=3"

want composition && evaluate composition "$sweep" 20 \
  --setting "science;guide=topic=$w:science" --setting "politics;guide=topic=$w:politics" \
  --setting "science + positive;guide=topic=$w:science;guide=sentiment=+$w" \
  --setting "science + avoid offensive;guide=topic=$w:science;guide=offensive=-$w" \
  --setting "politics + avoid offensive;guide=topic=$w:politics;guide=offensive=-$w"

# Plans that are the embeddings of the probes' held-out texts of one class, not steered samples: how much of what a
# plan says reaches the words when the plan is the meaning of real text (a yardstick for the steering rows), beside
# the unguided row and, for sentiment, at plan guidance 3.
want real-plans && evaluate real-plans "$samples" 20 \
  --setting "unguided" \
  --setting "positive reviews;plans=$lexicons/sentiment-heldout.csv:positive" \
  --setting "negative reviews;plans=$lexicons/sentiment-heldout.csv:negative" \
  --setting "positive reviews pg3;plans=$lexicons/sentiment-heldout.csv:positive;proposal_guidance=3" \
  --setting "negative reviews pg3;plans=$lexicons/sentiment-heldout.csv:negative;proposal_guidance=3" \
  --setting "offensive;plans=$lexicons/offensive-heldout.csv:offensive" \
  --setting "clean;plans=$lexicons/offensive-heldout.csv:clean" \
  --setting "science;plans=$lexicons/topic-heldout.csv:science" \
  --setting "politics;plans=$lexicons/topic-heldout.csv:politics"

if want plots; then
  draw() { [ -f "$out/$1.csv" ] && "$plot" "$out/$1.csv" "${@:2}"; }
  draw weights --x guide:sentiment \
    --y judge-afinn:positive,judge-afinn:negative,judge-judge-sentiment:positive,judge-judge-sentiment@proposal:positive \
    --title "Sentiment weight vs judged sentiment" -o "$out/weights-sentiment.png"
  draw weights --x guide:offensive --y judge-judge-offensive:offensive,judge-naughty-words:offensive \
    --title "Offensive weight vs judged offensive" -o "$out/weights-offensive.png"
  draw weights --x guide:topic:science --y judge-judge-topic:science --title "Topic (science) weight vs judged science" -o "$out/weights-topic.png"
  draw weights --x guide_weight --y scorer_perplexity --group guides --title "Guidance weight vs scorer perplexity" -o "$out/weights-perplexity.png"
  draw cfg --x cfg --y scorer_perplexity --title "CFG weight vs scorer perplexity" -o "$out/cfg-perplexity.png"
  draw cfg --x cfg --y div,mauve,adherence --title "CFG weight vs diversity, MAUVE and adherence" -o "$out/cfg-quality.png"
  draw steps --x steps --y judge-judge-topic:science,adherence --group guides --title "Sampler steps vs judged science and adherence" -o "$out/steps.png"
  draw sigma2 --x sigma2 --y adherence,adherence_chance,div,mauve \
    --title "sigma^2 vs adherence (and its chance level), diversity and MAUVE" -o "$out/sigma2.png"
  draw sigma2 --x sigma2 --y scorer_perplexity --title "sigma^2 vs scorer perplexity" -o "$out/sigma2-perplexity.png"
  draw proposal-guidance-open --x proposal_guidance --y adherence,div,mauve \
    --title "Proposal guidance vs adherence, diversity and MAUVE" -o "$out/proposal-guidance.png"
  draw proposal-guidance-open --x proposal_guidance --y scorer_perplexity \
    --title "Proposal guidance vs scorer perplexity" -o "$out/proposal-guidance-perplexity.png"
fi
echo "evaluate-default-model.sh: reports in $out"
