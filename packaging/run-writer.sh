#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Starts the built app on the default model. Without a display (a server, CI, a container) it starts the app
# on Qt's offscreen platform instead, saves a screenshot of the main window once the model has loaded, says
# where, and exits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=${DGLM_WRITER:-$root/build/release/bin/dglm-writer}
[ -x "$app" ] || { echo "run-writer.sh: $app is not built (run the README's first command)" >&2; exit 1; }
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" "$@"
fi
shot=$root/build/release/main-window.png
echo "run-writer.sh: no display found; starting dglm-writer offscreen and saving a screenshot to $shot"
QT_QPA_PLATFORM=offscreen "$app" --screenshot "$shot" "$@"
echo "run-writer.sh: the app started, loaded its model and drew its main window: $shot"
