#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the probe data allows without the encoder: logistic regression on bags of words, and on bags of the
model's SentencePiece pieces, fitted on each probe's training file and measured on its held-out file (the files
build-probe-data.sh writes). The regularisation is chosen by 5-fold cross-validation on the training file, never
on the held-out one. The model card's "Probes" compares the encoder's probes with these numbers.

Needs the Debian packages python3-sklearn and sentencepiece (spm_encode). Usage, from the repository root:
  python3 models/recipe/word-baselines.py [PROBE_DATA] [TOKENIZER] > report.md
  (defaults: build/probe-data, models/default/tokenizer.model)
"""
import argparse
import csv
import subprocess

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import accuracy_score, balanced_accuracy_score

# (held-out file's probe, training file): the sentiment probe is measured from both of its training files.
PROBE_FILES = [("sentiment", "sentiment.csv"), ("sentiment", "sentiment-with-weak.csv"),
               ("offensive", "offensive.csv"), ("topic", "topic.csv")]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [row["text"] for row in rows], [row["label"] for row in rows]


def to_pieces(texts, tokenizer):
    """Each text as its SentencePiece pieces separated by spaces (spm_encode reads one text per line)."""
    lines = "".join(text.replace("\n", " ").replace("\r", " ") + "\n" for text in texts)
    result = subprocess.run(["spm_encode", "--model", tokenizer, "--output_format=piece"], input=lines,
                            capture_output=True, text=True, check=True)
    pieces = result.stdout.split("\n")[:len(texts)]
    if len(pieces) != len(texts):
        raise SystemExit(f"spm_encode returned {len(pieces)} lines for {len(texts)} texts")
    return pieces


def held_out_scores(train_texts, train_labels, heldout_texts, heldout_labels, token_pattern):
    vectorizer = TfidfVectorizer(token_pattern=token_pattern, sublinear_tf=True)
    model = LogisticRegressionCV(Cs=[0.3, 1, 3, 10, 30], cv=5, max_iter=3000, class_weight="balanced")
    model.fit(vectorizer.fit_transform(train_texts), train_labels)
    predicted = model.predict(vectorizer.transform(heldout_texts))
    return accuracy_score(heldout_labels, predicted), balanced_accuracy_score(heldout_labels, predicted)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe_data", nargs="?", default="build/probe-data")
    parser.add_argument("tokenizer", nargs="?", default="models/default/tokenizer.model")
    args = parser.parse_args()

    print("| probe | training file | features | held-out accuracy | balanced accuracy |")
    print("|---|---|---|--:|--:|")
    for probe, training_file in PROBE_FILES:
        train_texts, train_labels = read_rows(f"{args.probe_data}/{training_file}")
        heldout_texts, heldout_labels = read_rows(f"{args.probe_data}/{probe}-heldout.csv")
        features = [("words", train_texts, heldout_texts, r"(?u)\b\w\w+\b"),
                    ("pieces", to_pieces(train_texts, args.tokenizer), to_pieces(heldout_texts, args.tokenizer),
                     r"\S+")]
        for name, train, heldout, token_pattern in features:
            accuracy, balanced = held_out_scores(train, train_labels, heldout, heldout_labels, token_pattern)
            print(f"| {probe} | {training_file} | {name} | {100 * accuracy:.1f} % | {100 * balanced:.1f} % |",
                  flush=True)


if __name__ == "__main__":
    main()
