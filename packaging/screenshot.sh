#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Saves the README's screenshots: DGLM Writer's main window to docs/screenshots/main-window.png (also used by
# the AppStream metadata), then a tour into docs/screenshots/tour/: a prefix with sliders set, K = 4
# continuations, another token picked in the first card and that card written again, compare mode with two
# settings, a probe trained from tests/data/csv/formality.csv and its new slider. The app drives itself (`--screenshot`, `--tour`); nothing fakes input events. Runs headless: Qt's
# offscreen platform, or a virtual X server with DGLM_USE_XVFB=1.
# Usage: packaging/screenshot.sh [BUILD_DIR] [MODEL_DIR]
#   BUILD_DIR defaults to build/dev; MODEL_DIR to $DGLM_MODEL_DIR, then the shipped models/default, then the
#   build tree's tiny model (made if missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
model="${2:-${DGLM_MODEL_DIR:-}}"
if [ -z "$model" ]; then
  if [ -f "$root/models/default/config.json" ]; then model="$root/models/default"; else model="$build/models/tiny"; fi
fi
screenshots="$root/docs/screenshots"

if [ ! -x "$build/bin/dglm-writer" ]; then
  echo "screenshot.sh: $build/bin/dglm-writer not found; build it first:" >&2
  echo "  cmake --build $build --target dglm-writer dglm" >&2
  exit 1
fi
if [ ! -f "$model/config.json" ]; then
  "$build/bin/dglm" make-tiny-model "$model"
fi
mkdir -p "$screenshots/tour"

# A throwaway home: the screenshots must not show (or change) the user's presets, probes, draft and layout.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch" XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data"

headless() {
  if [ "${DGLM_USE_XVFB:-0}" = 1 ]; then
    xvfb-run -a -s "-screen 0 1280x800x24" "$@"
  else
    QT_QPA_PLATFORM=offscreen "$@"
  fi
}

writer=("$(realpath "$build")/bin/dglm-writer" --model "$(realpath "$model")")
headless "${writer[@]}" --screenshot "$screenshots/main-window.png"
echo "wrote $screenshots/main-window.png"
# The CSV is opened from the throwaway home by its name, so that the dialog shows no path of this machine.
cp "$root/tests/data/csv/formality.csv" "$scratch/"
(cd "$scratch" && headless "${writer[@]}" --tour "$screenshots/tour" --tour-csv formality.csv)
echo "wrote the tour of $model to $screenshots/tour"
