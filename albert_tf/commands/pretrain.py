"""`albert-tf pretrain-data` (text -> TFRecord shards) and `albert-tf pretrain` (MLM + SOP)."""

from __future__ import annotations

import argparse
import json
import os


def register(subparsers) -> None:
    d = subparsers.add_parser(
        "pretrain-data",
        help="make pre-training TFRecord shards from plain text",
        description="Plain-text files (blank line between documents) -> TFRecord shards of "
        "SOP segment pairs with whole-word n-gram masking, plus pretraining_data.json.",
    )
    d.add_argument("--input", nargs="+", required=True, help="text files")
    d.add_argument("--tokenizer", required=True, help="spiece.model (or a folder holding one)")
    d.add_argument("--output", required=True, help="folder for the shards")
    d.add_argument("--num-shards", type=int, default=8)
    _add_example_args(d)
    d.add_argument("--debug", action="store_true", help="show full tracebacks")
    d.set_defaults(func=run_pretrain_data)

    p = subparsers.add_parser(
        "pretrain",
        help="pre-train (or continue pre-training) with masked LM + sentence order",
        description="Masked-LM + sentence-order pre-training with model.fit; resumes after a "
        "kill from --out/backup. Writes backbone.keras, spiece.model, albert_config.json and "
        "history.json to --out.",
    )
    p.add_argument(
        "--data", nargs="+", required=True, help="text files, or one shard folder of pretrain-data"
    )
    p.add_argument("--tokenizer", required=True, help="spiece.model (or a folder holding one)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--preset", default="small", help="model shape for a new model")
    p.add_argument("--config", help="albert_config.json / config.json for a new model")
    p.add_argument(
        "--init-from",
        help="continue from a checkpoint: a backbone .keras file or a Hugging Face/Google/"
        "keras-hub checkpoint folder",
    )
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32, help="global batch size")
    p.add_argument(
        "--optimizer",
        choices=["lamb", "adamw"],
        default="adamw",
        help="adamw (default) or lamb; LAMB steps are relative to each tensor's norm, so it "
        "wants a larger --learning-rate in short runs (e.g. 1e-2) and scales to large batches",
    )
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--warmup-fraction", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--strategy", default="default", help="default, mirrored, multi_worker, tpu")
    p.add_argument("--tpu", default=None, help="TPU name for --strategy tpu")
    p.add_argument(
        "--precision", default="auto", help="auto, float32, mixed_bfloat16, mixed_float16"
    )
    p.add_argument("--jit-compile", action="store_true", help="compile the train step with XLA")
    p.add_argument("--save-freq", type=int, default=200, help="steps between resume checkpoints")
    _add_example_args(p)
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run_pretrain)


def _add_example_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--max-predictions", type=int, default=None, help="default: 15%% of length + 1")
    p.add_argument("--masked-lm-prob", type=float, default=0.15)
    p.add_argument("--short-seq-prob", type=float, default=0.1)
    p.add_argument("--duplicate-factor", type=int, default=1)
    p.add_argument("--seed", type=int, default=12345)


def _builder(args, tokenizer):
    from albert_tf.data.pretraining import PretrainingDataBuilder
    from albert_tf.pretraining import default_max_predictions

    return PretrainingDataBuilder(
        tokenizer,
        max_seq_length=args.max_length,
        max_predictions=args.max_predictions or default_max_predictions(args.max_length),
        masked_lm_prob=args.masked_lm_prob,
        short_seq_prob=args.short_seq_prob,
        duplicate_factor=args.duplicate_factor,
        seed=args.seed,
    )


def run_pretrain_data(args) -> int:
    from albert_tf.data.pretraining_tfrecord import write_pretraining_shards
    from albert_tf.tokenizer import AlbertTokenizer

    tokenizer = AlbertTokenizer.load(args.tokenizer)
    meta = write_pretraining_shards(
        args.input, _builder(args, tokenizer), args.output, num_shards=args.num_shards
    )
    print(f"wrote {meta['num_examples']} examples in {meta['num_shards']} shards to {args.output}")
    return 0


def run_pretrain(args) -> int:
    # The strategy (and the dtype policy) must be set before any model exists.
    from albert_tf.training.distribute import get_strategy, is_chief, set_precision

    strategy = get_strategy(args.strategy, tpu=args.tpu)
    precision = set_precision(args.precision)

    import keras

    from albert_tf.config import AlbertConfig
    from albert_tf.data.pretraining import FEATURE_NAMES, arrays_to_dataset, iter_documents
    from albert_tf.data.pretraining_tfrecord import METADATA_FILE, pretraining_shards_dataset
    from albert_tf.models.backbone import AlbertBackbone
    from albert_tf.pretraining import compile_pretrainer
    from albert_tf.tokenizer import AlbertTokenizer
    from albert_tf.training.resumable import fit_resumable

    tokenizer = AlbertTokenizer.load(args.tokenizer)
    shard_dir = args.data[0] if len(args.data) == 1 and os.path.isdir(args.data[0]) else None
    if shard_dir:
        meta_path = os.path.join(shard_dir, METADATA_FILE)
        if not os.path.exists(meta_path):
            raise FileNotFoundError(f"{shard_dir} has no {METADATA_FILE} (run pretrain-data).")
        with open(meta_path, encoding="utf-8") as f:
            num_examples = int(json.load(f)["num_examples"])

        def make_dataset(skip: int):
            ds = pretraining_shards_dataset(
                shard_dir, args.batch_size, seed=args.seed, repeat=True, drop_remainder=True
            )
            return ds.skip(skip)
    else:
        arrays = _builder(args, tokenizer).build(list(iter_documents(args.data)))
        num_examples = len(arrays[FEATURE_NAMES[0]])

        def make_dataset(skip: int):
            ds = arrays_to_dataset(
                arrays, args.batch_size, seed=args.seed, repeat=True, drop_remainder=True
            )
            return ds.skip(skip)

    steps_per_epoch = num_examples // args.batch_size
    if steps_per_epoch < 1:
        raise ValueError(
            f"{num_examples} pre-training examples make no batch of {args.batch_size}; "
            "use more text or a smaller --batch-size."
        )

    with strategy.scope():
        if args.init_from:
            if args.init_from.endswith(".keras"):
                backbone = keras.models.load_model(args.init_from)
            else:
                backbone = AlbertBackbone.from_pretrained(args.init_from)
        else:
            if args.config:
                config = AlbertConfig.from_json_file(args.config)
            else:
                config = AlbertConfig.from_preset(args.preset, vocab_size=tokenizer.vocab_size)
            backbone = AlbertBackbone(config)
        model = compile_pretrainer(
            backbone,
            total_steps=args.epochs * steps_per_epoch,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            warmup_fraction=args.warmup_fraction,
            weight_decay=args.weight_decay,
            jit_compile=args.jit_compile,
        )
    chief = is_chief(strategy)
    os.makedirs(args.out, exist_ok=True)
    print(
        f"pre-training on {num_examples} examples, {steps_per_epoch} steps/epoch, "
        f"{strategy.num_replicas_in_sync} replica(s), precision {precision}"
    )
    history = fit_resumable(
        model,
        make_dataset,
        epochs=args.epochs,
        steps_per_epoch=steps_per_epoch,
        backup_dir=os.path.join(args.out, "backup"),
        save_freq=args.save_freq,
        write_backup=chief,
    )
    if chief:
        _save_outputs(args.out, backbone, tokenizer, history)
        print(f"wrote {args.out}/backbone.keras")
    return 0


def _save_outputs(out: str, backbone, tokenizer, history) -> None:
    tmp = os.path.join(out, f"tmp{os.getpid()}.keras")
    backbone.save(tmp)
    os.replace(tmp, os.path.join(out, "backbone.keras"))
    tokenizer.save(out)
    backbone.config.to_json_file(os.path.join(out, "albert_config.json"))
    logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    with open(os.path.join(out, "history.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(logs, f, indent=2)
    os.replace(os.path.join(out, "history.json.tmp"), os.path.join(out, "history.json"))
