#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian package with CPack from a build folder and checks what it holds: the three programs, the
# SentencePiece plugin in the private library folder, the default model, desktop entry, AppStream metadata and
# icons (SVG and PNG), and dependencies on Debian's own LibTorch, Qt 6 and QCustomPlot packages.
# Usage: check_deb.sh BUILD_DIR LIBDIR      (LIBDIR: CMAKE_INSTALL_LIBDIR, e.g. lib/x86_64-linux-gnu)
set -euo pipefail

build="$1"
libdir="$2"
app_id=io.github.dglmwriter.DglmWriter
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cpack -G DEB -B "$scratch" --config "$build/CPackConfig.cmake" >"$scratch/cpack.log" 2>&1 || {
  cat "$scratch/cpack.log" >&2
  exit 1
}
debs=("$scratch"/*.deb)
[ -f "${debs[0]}" ] || { echo "check_deb.sh: cpack made no .deb" >&2; exit 1; }
deb="${debs[0]}"
echo "check_deb.sh: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

contents="$(dpkg-deb -c "$deb" | awk '{print $6}')"
failures=0
expect_file() {
  if grep -qxF "./usr/$1" <<<"$contents"; then
    echo "  has /usr/$1"
  else
    echo "check_deb.sh: missing /usr/$1" >&2
    failures=$((failures + 1))
  fi
}
expect_file bin/dglm-writer
expect_file bin/dglm
expect_file bin/dglm-plot
expect_file "$libdir/dglm-writer/libdglm_sentencepiece.so"
expect_file share/dglm-writer/models/default/config.json
expect_file share/dglm-writer/models/default/tokenizer.model
expect_file "share/applications/$app_id.desktop"
expect_file "share/metainfo/$app_id.metainfo.xml"
expect_file "share/icons/hicolor/scalable/apps/$app_id.svg"
for size in 16 32 48 64 128 256; do expect_file "share/icons/hicolor/${size}x${size}/apps/$app_id.png"; done

depends="$(dpkg-deb -f "$deb" Depends)"
echo "  Depends: $depends"
for package in 'libtorch[0-9.]*' 'libqt6widgets6' 'libqt6core6' 'libqcustomplot[0-9.]*-qt6' 'libsentencepiece0'; do
  if grep -Eq "(^|, )$package( |,|$)" <<<"$depends"; then
    echo "  depends on $package"
  else
    echo "check_deb.sh: Depends lacks $package" >&2
    failures=$((failures + 1))
  fi
done
package="$(dpkg-deb -f "$deb" Package)"
[ "$package" = dglm-writer ] || { echo "check_deb.sh: package is named '$package', not dglm-writer" >&2; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] || { echo "check_deb.sh: $failures problem(s) in $(basename "$deb")" >&2; exit 1; }
echo "check_deb.sh: the package is complete"
