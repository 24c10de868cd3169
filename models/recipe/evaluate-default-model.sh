#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Measures the default model as its model card reports it: steering judged by classifiers that share no
# training data with the probes, the sigma^2 ablation, and the baselines. Usage, after train-default-model.sh:
#   models/recipe/evaluate-default-model.sh [WORK_DIR] [MODEL_DIR] [REPORT_DIR]
#   (defaults: build/train, models/default, build/eval); PROMPTS (default 40), SAMPLES (default 25), WEIGHT
#   (guidance weight of the "clearly positive/negative" settings, default 8), EVAL_PARTS (any of steering, sigma2,
#   baselines; default all three).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-build/train}
model=${2:-models/default}
out=${3:-build/eval}
dglm=${DGLM:-$root/build/release/bin/dglm}
prompts=${PROMPTS:-40}
samples=${SAMPLES:-25}
weight=${WEIGHT:-8}
parts=" ${EVAL_PARTS:-steering sigma2 baselines} "
want() { [[ $parts == *" $1 "* ]]; }
config=$root/models/recipe/default-config.json
export OMP_WAIT_POLICY=passive
mkdir -p "$out"

# The scorer of fluency: the language model as pre-trained, before joint training adapted it to soft prompts,
# so the decoder that wrote a text never scores it. (It shares training text with the generator: no other
# English language model exists on this machine; see the model card.)
[ -f "$out/scorer/config.json" ] ||
  "$dglm" train assemble "$out/scorer" --config "$config" --tokenizer "$work/tokenizer.model" \
    --encoder "$work/encoder/encoder.safetensors" --diffusion "$work/diffusion/diffusion.safetensors" \
    --prompt "$work/joint/prompt_generator.safetensors" --decoder "$work/decoder/decoder.safetensors" \
    --stats "$work/latent-stats.json"

common=(--scorer "$out/scorer" --samples "$samples" --seed 7
        --judge "judge-sentiment=$work/judges/judge-sentiment" --judge "judge-offensive=$work/judges/judge-offensive"
        --judge "judge-topic=$work/judges/judge-topic")
[ -f "$out/prompts.jsonl" ] ||
  "$dglm" eval "$model" --scorer "$out/scorer" --make-prompts build/corpus/valid.txt --count "$prompts" \
    --prefix-tokens 32 --continuation-tokens 32 --save-prompts "$out/prompts.jsonl" --samples 1 --tokens 1 -o "$out/prompts-check.md"

want steering && "$dglm" eval "$model" "${common[@]}" --prompts "$out/prompts.jsonl" --tokens 20 -o "$out/steering.md" \
  --setting "unguided" \
  --setting "positive;guide=sentiment=+$weight" --setting "negative;guide=sentiment=-$weight" \
  --setting "avoid offensive;guide=offensive=-$weight" \
  --setting "topic science;guide=topic=$weight:science" --setting "topic politics;guide=topic=$weight:politics" \
  --setting "positive + science;guide=sentiment=+$weight;guide=topic=$weight:science"

want sigma2 && "$dglm" eval "$model" "${common[@]}" --prompts "$out/prompts.jsonl" --tokens 32 -o "$out/sigma2.md" \
  --setting "sigma2 0;sigma2=0" --setting "sigma2 0.05;sigma2=0.05" --setting "sigma2 0.2;sigma2=0.2" \
  --setting "sigma2 0.5;sigma2=0.5" --setting "sigma2 1;sigma2=1"

want baselines && "$dglm" eval "$model" "${common[@]}" --prompts "$out/prompts.jsonl" --tokens 20 -o "$out/baselines.md" \
  --setting "DGLM unguided" --setting "AR;method=ar" \
  --setting "DGLM positive;guide=sentiment=+$weight" --setting "FUDGE positive;method=fudge;guide=sentiment=+$weight"
echo "evaluate-default-model.sh: reports in $out"
