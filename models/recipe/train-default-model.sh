#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Trains the default model from scratch on this project's own corpus, stage by stage. Every training stage
# checkpoints and resumes: run the script again after an interruption and it continues where it stopped
# (finished stages are skipped). Usage, from the repository root after building:
#   models/recipe/train-default-model.sh [WORK_DIR] [MODEL_DIR]     (defaults: build/train, models/default)
# Environment: DGLM (the dglm binary, default build/release/bin/dglm), THREADS (default 1: on a 2-core machine
# two stages run side by side), and the step counts below.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-build/train}
model=${2:-models/default}
dglm=${DGLM:-$root/build/release/bin/dglm}
threads=${THREADS:-1}
config=$root/models/recipe/default-config.json
decoder_steps=${DECODER_STEPS:-2800}
encoder_steps=${ENCODER_STEPS:-5000}
supervised_steps=${SUPERVISED_STEPS:-600}
joint_steps=${JOINT_STEPS:-7200}
diffusion_steps=${DIFFUSION_STEPS:-3400}
run() { "$dglm" --threads "$threads" "$@"; }

mkdir -p "$work"
# shellcheck source=SCRIPTDIR/common.sh
source "$root/models/recipe/common.sh"

done_file "$work/tokenizer.model" ||
  run train tokenizer --input build/corpus/train.txt --output-prefix "$work/tokenizer" --vocab-size 4000 \
    --max-sentences 400000
# train/valid: the pre-training corpus; tune-train/tune-valid add the reviews, for joint training only.
for split in train valid tune-train tune-valid; do
  done_file "$work/$split-tokens.safetensors" ||
    run train tokenize --tokenizer "$work/tokenizer.model" --input "build/corpus/$split.txt" \
      --output "$work/$split-tokens.safetensors"
done

# The decoder (language model) and the encoder (contrastive) are independent: run them side by side.
done_file "$work/decoder/decoder.safetensors" ||
  run train decoder --config "$config" --train "$work/train-tokens.safetensors" --valid "$work/valid-tokens.safetensors" \
    --output "$work/decoder" --steps "$decoder_steps" --warmup 100 --lr 1e-3 --min-lr 1e-4 --checkpoint-steps 200 \
    --log-steps 20 --eval-batches 32 --seed 1 &
decoder_job=$!
done_file "$work/encoder/encoder.safetensors" ||
  run train encoder --config "$config" --train "$work/train-tokens.safetensors" --valid "$work/valid-tokens.safetensors" \
    --output "$work/encoder" --steps "$encoder_steps" --batch 128 --lr 1e-3 --warmup 100 --checkpoint-steps 200 \
    --log-steps 20 --seed 2
# Contrastive spans teach what a text is about, not how it feels: a short fine-tune makes the probes' classes
# stronger directions (a supervised contrastive loss on the probes' training rows, never their held-out rows, and
# on corpus sentences labelled by the Bing lexicon).
encoder=$work/encoder-supervised/encoder.safetensors
done_file "$encoder" ||
  run train encoder --config "$config" --train "$work/train-tokens.safetensors" --valid "$work/valid-tokens.safetensors" \
    --output "$work/encoder-supervised" --init "$work/encoder/encoder.safetensors" --tokenizer "$work/tokenizer.model" \
    --labelled build/probe-data/sentiment.csv --labelled build/probe-data/sentiment-weak.csv \
    --labelled build/probe-data/offensive.csv --labelled build/probe-data/topic.csv --labelled-batch 32 \
    --steps "$supervised_steps" --batch 128 --lr 3e-4 --warmup 50 --checkpoint-steps 100 --log-steps 20 --seed 2
wait "$decoder_job"  # its own exit status: a failed background stage stops the script (set -e)

done_file "$work/valid.pairs" ||
  run train pairs --config "$config" --encoder "$encoder" \
    --tokens "$work/valid-tokens.safetensors" --output "$work/valid.pairs"
done_file "$work/train.pairs" ||
  run train pairs --config "$config" --encoder "$encoder" \
    --tokens "$work/train-tokens.safetensors" --output "$work/train.pairs" --stats "$work/latent-stats.json"

# Joint training learns to put an embedding into words: its pairs come from the corpus with the reviews, so that
# it sees continuations that judge as well as state. Normalised with the pre-training pairs' statistics, as the
# diffusion network's proposals are.
for split in tune-valid tune-train; do
  done_file "$work/$split.pairs" ||
    run train pairs --config "$config" --encoder "$encoder" \
      --tokens "$work/$split-tokens.safetensors" --output "$work/$split.pairs"
done

# Diffusion needs only the pairs; joint needs the pairs and the pre-trained decoder: side by side again.
done_file "$work/diffusion/diffusion.safetensors" ||
  run train diffusion --config "$config" --train "$work/train.pairs" --valid "$work/valid.pairs" \
    --stats "$work/latent-stats.json" --output "$work/diffusion" --steps "$diffusion_steps" --batch 64 --lr 1e-3 \
    --warmup 100 --ema 0.999 --checkpoint-steps 200 --log-steps 20 --seed 3 &
diffusion_job=$!
done_file "$work/joint/prompt_generator.safetensors" ||
  run train joint --config "$config" --decoder "$work/decoder/decoder.safetensors" --train "$work/tune-train.pairs" \
    --valid "$work/tune-valid.pairs" --stats "$work/latent-stats.json" --output "$work/joint" --steps "$joint_steps" \
    --batch 16 --lr 3e-4 --min-lr 3e-5 --warmup 50 --checkpoint-steps 200 --log-steps 20 --seed 4
wait "$diffusion_job"

run train assemble "$model" --config "$config" --tokenizer "$work/tokenizer.model" \
  --encoder "$encoder" --diffusion "$work/diffusion/diffusion.safetensors" \
  --prompt "$work/joint/prompt_generator.safetensors" --decoder "$work/joint/decoder.safetensors" \
  --stats "$work/latent-stats.json" --half

# Probes steer; judges (trained on disjoint sources or documents) only evaluate, so they live outside the model.
DGLM=$dglm THREADS=$threads "$root/models/recipe/train-probes.sh" "$model" "$work/judges"
echo "train-default-model.sh: $model is complete; measure it with models/recipe/evaluate-default-model.sh"
