# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by the training scripts of this folder (after they set `root`): what every stage needs.
# shellcheck disable=SC2154  # root: set by the script that sources this file
export OMP_WAIT_POLICY=passive  # idle OpenMP threads sleep instead of spinning against the other stage
# done_file FILE: true (and says so) when a stage's output exists, so that a rerun skips the stage.
done_file() { [ -f "$1" ] && echo "skip: $1 exists"; }
# The corpus and the probe data, built once (both scripts take minutes and install packages).
[ -f build/corpus/tune-train.txt ] || "$root/models/recipe/build-corpus.sh" build/corpus
[ -f build/probe-data/register.csv ] || "$root/models/recipe/build-probe-data.sh" build/corpus build/probe-data
