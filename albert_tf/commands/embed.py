"""`albert-tf embed BUNDLE TEXT...` and `albert-tf search BUNDLE ...`: an embedder
bundle on the edge runtime (`export.runtime.embedder`), no TensorFlow.

embed: one JSON line per text, `{"text": ..., "embedding": [...]}`.
search: `--build CORPUS.txt --index FILE.npz` embeds a corpus once (one text a
line) and writes the index file atomically; `--index FILE.npz QUERY...` prints,
for each query, its top `-k` corpus texts by cosine as JSON lines
(`query`, `rank`, `index`, `score`, `text`).
"""

from __future__ import annotations

import argparse
import json

from albert_tf.commands.predict import _argument_texts
from albert_tf.io.text_lines import read_lines


def register(subparsers) -> None:
    e = subparsers.add_parser(
        "embed", help="embed texts with an exported embedder bundle (JSON Lines of vectors)"
    )
    e.add_argument("bundle", help="bundle folder written by `albert-tf export` of an embed run")
    e.add_argument("texts", nargs="*", help="texts to embed (or --file)")
    e.add_argument("--file", default=None, help="one text per line ('-' for stdin)")
    e.add_argument("--threads", type=int, default=None, help="interpreter threads")
    e.add_argument("--debug", action="store_true")
    e.set_defaults(func=run_embed)

    s = subparsers.add_parser(
        "search", help="build a cosine index of a corpus once, then query its top k"
    )
    s.add_argument("bundle", help="embedder bundle folder")
    s.add_argument("queries", nargs="*", help="query texts")
    s.add_argument("--index", required=True, help="index file (.npz) to write or read")
    s.add_argument("--build", default=None, help="corpus to index, one text per line")
    s.add_argument("-k", type=int, default=10, help="results per query (default 10)")
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--debug", action="store_true")
    s.set_defaults(func=run_search)


def run_embed(args: argparse.Namespace) -> int:
    from export.runtime.embedder import Embedder

    texts = _argument_texts(list(args.texts), "strict")
    if args.file:
        texts += [t for t in read_lines(args.file, pipes=True) if t.strip()]
    if not texts:
        raise ValueError("no texts to embed: give them as arguments or with --file")
    embedder = Embedder(args.bundle, num_threads=args.threads)
    for text, vector in zip(texts, embedder.embed(texts)):
        print(json.dumps({"text": text, "embedding": [round(float(v), 7) for v in vector]}))
    return 0


def run_search(args: argparse.Namespace) -> int:
    from export.runtime.embedder import Embedder, Index, build_index

    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    queries = _argument_texts(list(args.queries), "strict")
    if not args.build and not queries:
        raise ValueError("nothing to do: give --build CORPUS and/or query texts")
    embedder = Embedder(args.bundle, num_threads=args.threads)
    if args.build:
        corpus = [t for t in read_lines(args.build) if t.strip()]
        if not corpus:
            raise ValueError(f"{args.build} holds no texts to index")
        size = build_index(embedder, corpus, args.index)
        print(json.dumps({"index": args.index, "texts": len(corpus), "bytes": size}))
    if queries:
        index = Index(args.index)
        for query in queries:
            for hit in index.search(embedder, query, args.k):
                print(json.dumps({"query": query, **hit}, ensure_ascii=False))
    return 0
