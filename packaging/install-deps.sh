#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs every build, test and run dependency of DGLM Writer from Debian 12's archive.
# Idempotent: safe to run again. Must run as root on Debian 12 (bookworm).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get needs it)" >&2
  exit 1
fi

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # the model core
  libtorch-dev libsentencepiece-dev sentencepiece
  # LibTorch only depends on "some libblas.so.3"; the reference BLAS is ~20x slower than OpenBLAS.
  # The OpenMP variant shares LibTorch's threads instead of fighting them.
  libopenblas0-openmp
  # well-kept libraries used instead of hand-written code
  nlohmann-json3-dev libcli11-dev libxxhash-dev libcsv-dev
  # the desktop app
  qt6-base-dev libqcustomplot-dev libgl-dev
  # renders the PNG icons from the SVG at build time
  librsvg2-bin
  # tests: GoogleTest, a display for widget tests and screenshots, .desktop/metainfo validation
  libgtest-dev xvfb xauth appstream desktop-file-utils
  # the recipe's scripts (corpus extraction, paired comparisons of evaluations), and a test of one
  python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Make sure libblas.so.3 (what LibTorch loads) resolves to OpenBLAS-openmp, not the reference BLAS.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
openblas="/usr/lib/$arch/openblas-openmp/libblas.so.3"
if [ -e "$openblas" ]; then
  update-alternatives --set "libblas.so.3-$arch" "$openblas" >/dev/null
  openlapack="/usr/lib/$arch/openblas-openmp/liblapack.so.3"
  [ -e "$openlapack" ] && update-alternatives --set "liblapack.so.3-$arch" "$openlapack" >/dev/null
fi
echo "install-deps.sh: dependencies present; libblas.so.3 -> $(readlink -f "/usr/lib/$arch/libblas.so.3")"
