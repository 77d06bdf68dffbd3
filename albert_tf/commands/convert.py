"""`albert-tf convert SOURCE OUTPUT [--to albert-tf|huggingface|keras-hub]`.

SOURCE is any checkpoint `albert_tf.convert` reads (Hugging Face ALBERT/BERT
folder, `hf://owner/name`, original Google release, keras-hub preset,
albert-tf folder, or `packaged:minilm`). The model keeps every head SOURCE
carries (`--backbone-only` drops them); the tokenizer file comes along.

Examples:
    albert-tf convert albert-base-v2/ runs/albert-base --to albert-tf
    albert-tf convert albert_base/ albert-base-hf --to huggingface   # Google release
    albert-tf convert packaged:minilm minilm-hub --to huggingface
"""

from __future__ import annotations

import argparse
import time

FORMATS = ("albert-tf", "huggingface", "keras-hub")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "convert",
        help="convert a pretrained checkpoint (Hugging Face, Google TF1, keras-hub) to another format",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", help="checkpoint folder, hf://owner/name, or packaged:minilm")
    p.add_argument("output", help="new (or empty) output folder")
    p.add_argument("--to", choices=FORMATS, default="albert-tf", help="output format")
    p.add_argument("--backbone-only", action="store_true", help="drop the heads, keep the encoder")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from albert_tf.convert import (
        load_backbone,
        load_model,
        open_checkpoint,
        packaged_model,
        save_albert_tf,
        save_huggingface,
        save_keras_hub_preset,
    )

    start = time.time()
    source = args.source
    if source.startswith("packaged:"):
        source = packaged_model(source.split(":", 1)[1])
    ckpt = open_checkpoint(source)
    print(f"Reading {ckpt.kind} checkpoint {ckpt.label} ({len(ckpt.tensors)} tensors)", flush=True)
    model = (
        load_backbone(ckpt) if args.backbone_only or args.to == "keras-hub" else load_model(ckpt)
    )
    writer = {
        "albert-tf": save_albert_tf,
        "huggingface": save_huggingface,
        "keras-hub": save_keras_hub_preset,
    }[args.to]
    extra = {}
    if args.to == "huggingface":
        extra["labels"] = _run_labels(source)
        extra["lower_case"] = _run_lower_case(source)
    tokenizer = ckpt.tokenizer_file or ckpt.tokenizer
    writer(model, args.output, tokenizer=tokenizer, **extra)
    c = model.backbone.config if hasattr(model, "backbone") else model.config
    print(
        f"Wrote {type(model).__name__} ({model.count_params():,} parameters; H={c.hidden_size}, "
        f"E={c.embedding_size}, {c.num_hidden_layers} layers in {c.num_hidden_groups} group(s)) "
        f"as {args.to} to {args.output}"
        + ("" if tokenizer else " (no tokenizer file in the source)")
        + f" in {time.time() - start:.1f}s"
    )
    return 0


def _run_lower_case(source: str) -> bool | None:
    """Whether an albert-tf run folder's tokenizer lower-cases (its run.json), else None."""
    import os

    from albert_tf.training.run_folder import RUN_FILE, RunFolder

    folder = RunFolder(source)
    if not (os.path.isdir(source) and os.path.isfile(folder.file(RUN_FILE))):
        return None
    entry = folder.read_info().get("tokenizer") or {}
    return entry.get("lower_case") if isinstance(entry, dict) else None


def _run_labels(source: str) -> list[str] | None:
    """The label names of an albert-tf run folder (its model's, or an older run's
    labels.txt), else None."""
    import os

    from albert_tf.training.run_folder import LABELS_FILE, RunFolder

    folder = RunFolder(source)
    if os.path.isdir(source) and (
        folder.holds_preprocessor() or os.path.isfile(folder.file(LABELS_FILE))
    ):
        return folder.read_labels()
    return None
