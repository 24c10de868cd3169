#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings compared prompt by prompt, from the texts of `dglm eval --texts`.

The texts of one prompt share its seed, so they are not independent samples: a row's standard error is taken over
the prompts' means. Settings measured with the same seeds share their proposals' noise, so the difference between
two of them is paired by prompt, which removes what the prompts differ by and leaves what the settings change.
Prints a Markdown table: each setting's mean and standard error over prompts, and its difference from the
setting before it (in the file's order), paired by prompt, with that difference's standard error.

Usage: paired-differences.py TEXTS.jsonl [--measure adherence|scorer_perplexity]
"""
import argparse
import json
import math
import statistics
import sys
from collections import OrderedDict, defaultdict


def prompt_means(path, measure):
    """setting -> {prompt: mean of the measure over that prompt's texts}, settings in the file's order."""
    values = OrderedDict()
    with open(path, encoding="utf-8") as texts:
        for number, line in enumerate(texts, 1):
            try:
                record = json.loads(line)
                value = record[measure]
                by_prompt = values.setdefault(record["setting"], defaultdict(list))
                # No proposal (AR) has no adherence; a text without tokens has no perplexity (0).
                if value is not None and not (measure == "scorer_perplexity" and value <= 0):
                    by_prompt[record["prompt"]].append(float(value))
            except (ValueError, KeyError) as error:
                sys.exit(f"{path}:{number}: not a text record of dglm eval --texts ({error})")
    return OrderedDict((setting, {p: statistics.fmean(v) for p, v in by_prompt.items() if v})
                       for setting, by_prompt in values.items())


def mean_and_error(samples):
    """The mean and its standard error (None from a single sample)."""
    mean = statistics.fmean(samples)
    error = statistics.stdev(samples) / math.sqrt(len(samples)) if len(samples) > 1 else None
    return mean, error


def plus_minus(mean, error, sign=""):
    return f"{mean:{sign}.4f} +- " + ("-" if error is None else f"{error:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("texts")
    parser.add_argument("--measure", default="adherence", choices=["adherence", "scorer_perplexity"])
    args = parser.parse_args()
    settings = prompt_means(args.texts, args.measure)
    print(f"| setting | prompts | {args.measure}: mean +- s.e. over prompts | "
          "minus the setting before, paired by prompt | in standard errors |")
    print("|---|--:|--:|--:|--:|")
    previous = None
    for setting, means in settings.items():
        if not means:
            print(f"| {setting} | 0 | - | - | - |")
            previous = None
            continue
        paired = "- | -"
        if previous:
            shared = sorted(means.keys() & previous.keys())
            if len(shared) > 1:
                difference, difference_error = mean_and_error([means[p] - previous[p] for p in shared])
                ratio = f"{difference / difference_error:+.1f}" if difference_error else "-"
                paired = f"{plus_minus(difference, difference_error, '+')} | {ratio}"
        print(f"| {setting} | {len(means)} | {plus_minus(*mean_and_error(list(means.values())))} | {paired} |")
        previous = means


if __name__ == "__main__":
    main()
