#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fits the default model's four probes (into MODEL_DIR/probes) and the three judges that evaluate steering (into
# JUDGES_DIR, outside the model: they share no training rows with the probes). Called by train-default-model.sh and
# continue-default-model.sh, after build-probe-data.sh wrote build/probe-data. Usage, from the repository root:
#   models/recipe/train-probes.sh MODEL_DIR JUDGES_DIR
# Environment: DGLM (the dglm binary, default build/release/bin/dglm), THREADS (default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$1
judges=$2
dglm=${DGLM:-$root/build/release/bin/dglm}
run() { "$dglm" --threads "${THREADS:-1}" "$@"; }

mkdir -p "$judges"
# The sentiment probe learns from the review sentences and Bing-labelled corpus sentences, balanced by source
# (extract_probe_data.py): on the sixth model's encoder 73.0 % on the held-out reviews against 71.3 % from the
# reviews alone, and its direction reaches the words (model card, "Fourth default model and why the fifth replaced
# it"). Twelve times the rows want more L2 than the other probes.
run train probe "$model" --csv build/probe-data/sentiment-with-weak.csv --heldout-csv build/probe-data/sentiment-heldout.csv \
  --text-column text --label-column label --name sentiment \
  --description "Sentiment (Yelp and Amazon review sentences, and corpus sentences labelled by the Bing opinion lexicon)" \
  --l2 1e-3 --seed 5
run train probe "$model" --csv build/probe-data/offensive.csv --heldout-csv build/probe-data/offensive-heldout.csv \
  --text-column text --label-column label --name offensive \
  --description "Offensive-language proxy (joke tags and clean fortunes)" --l2 1e-6 --seed 5
run train probe "$model" --csv build/probe-data/topic.csv --heldout-csv build/probe-data/topic-heldout.csv \
  --text-column text --label-column label --name topic \
  --description "Topic (Brown genres, State of the Union, Moby Dick, fortunes)" --l2 1e-6 --seed 5
# Reviews are where this decoder says positive things that are not political: composed with sentiment, this
# probe carries positive guidance into the words (model card, "Steering").
run train probe "$model" --csv build/probe-data/register.csv --heldout-csv build/probe-data/register-heldout.csv \
  --text-column text --label-column label --name register \
  --description "Register: prose (fiction, speeches, essays) or product reviews (Amazon fine-food reviews)" \
  --l2 1e-6 --seed 5
for judge in sentiment offensive topic; do
  run train probe "$model" --csv "build/probe-data/$judge-judge.csv" --text-column text --label-column label \
    --name "judge-$judge" --output "$judges" --l2 1e-6 --seed 6
done
