#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Walks DGLM Writer through its main features and saves a PNG of each state into docs/screenshots/tour/:
# a prefix with sliders set, K = 4 continuations, compare mode with two settings, a probe trained from a small
# CSV file (tests/data/csv/formality.csv) and its new slider. The app drives itself (`--tour`); nothing fakes
# input events. Runs under a virtual X server (xvfb-run) when available, else on Qt's offscreen platform
# (force it with DGLM_USE_XVFB=0).
# Usage: packaging/screenshot-tour.sh [BUILD_DIR] [MODEL_DIR]
#   BUILD_DIR defaults to build/dev; MODEL_DIR to $DGLM_MODEL_DIR, then BUILD_DIR/models/default, then the
#   build tree's tiny model (made if missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
model="${2:-${DGLM_MODEL_DIR:-}}"
if [ -z "$model" ]; then
  if [ -f "$build/models/default/config.json" ]; then model="$build/models/default"; else model="$build/models/tiny"; fi
fi
output="$root/docs/screenshots/tour"
csv="$root/tests/data/csv/formality.csv"

if [ ! -x "$build/bin/dglm-writer" ]; then
  echo "screenshot-tour.sh: $build/bin/dglm-writer not found; build it first:" >&2
  echo "  cmake --build $build --target dglm-writer dglm" >&2
  exit 1
fi
if [ ! -f "$model/config.json" ]; then
  "$build/bin/dglm" make-tiny-model "$model"
fi
mkdir -p "$output"

# A throwaway home: the tour must not show (or change) the user's presets, probes, draft and window layout.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch" XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data"

run=("$build/bin/dglm-writer" --model "$model" --tour "$output" --tour-csv "$csv")
if [ "${DGLM_USE_XVFB:-1}" = 1 ] && command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1280x800x24" "${run[@]}"
else
  QT_QPA_PLATFORM=offscreen "${run[@]}"
fi
echo "screenshot-tour.sh: screenshots of $model in $output"
