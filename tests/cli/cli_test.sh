#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# cli_test.sh EXPECTED_EXIT REGEX COMMAND...: runs COMMAND, fails unless it exits with EXPECTED_EXIT and its
# combined output matches the extended regular expression REGEX.
set -u
expected_exit=$1 pattern=$2
shift 2
output=$("$@" 2>&1)
status=$?
if [ "$status" -ne "$expected_exit" ]; then
  printf 'expected exit %s, got %s from: %s\n%s\n' "$expected_exit" "$status" "$*" "$output"
  exit 1
fi
if ! grep -Eq -- "$pattern" <<<"$output"; then
  printf 'output of "%s" does not match /%s/:\n%s\n' "$*" "$pattern" "$output"
  exit 1
fi
