#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Saves a screenshot of DGLM Writer's main window to docs/screenshots/main-window.png (for the README and the
# AppStream metadata). Runs headless: Qt's offscreen platform, or a virtual X server with DGLM_USE_XVFB=1.
# Usage: packaging/screenshot.sh [BUILD_DIR] [MODEL_DIR]
#   BUILD_DIR defaults to build/dev; MODEL_DIR to the build tree's tiny model (made if missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/dev}"
model="${2:-$build/models/tiny}"
output="$root/docs/screenshots/main-window.png"

if [ ! -x "$build/bin/dglm-writer" ]; then
  echo "screenshot.sh: $build/bin/dglm-writer not found; build it first:" >&2
  echo "  cmake --build $build --target dglm-writer dglm" >&2
  exit 1
fi
if [ ! -f "$model/config.json" ]; then
  "$build/bin/dglm" make-tiny-model "$model"
fi
mkdir -p "$(dirname "$output")"

# A throwaway home: the screenshot must not show (or change) the user's presets, draft and window layout.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch" XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data"

run=("$build/bin/dglm-writer" --model "$model" --screenshot "$output")
if [ "${DGLM_USE_XVFB:-0}" = 1 ]; then
  xvfb-run -a -s "-screen 0 1280x800x24" "${run[@]}"
else
  QT_QPA_PLATFORM=offscreen "${run[@]}"
fi
echo "wrote $output"
