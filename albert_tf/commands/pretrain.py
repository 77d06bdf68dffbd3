"""`albert-tf pretrain-data` (text -> TFRecord shards) and `albert-tf pretrain` (MLM + SOP)."""

from __future__ import annotations

import argparse
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
        "kill at the step of its last checkpoint in --out/backup. Writes the run folder --out: "
        "backbone.keras (the best epoch: lowest --validation loss when given, else training "
        "loss), spiece.model, albert_config.json, run.json (task pretrain), history.json, "
        "checkpoints/ and TensorBoard logs/.",
    )
    p.add_argument(
        "--data", nargs="+", required=True, help="text files, or one shard folder of pretrain-data"
    )
    p.add_argument(
        "--validation",
        nargs="+",
        help="held-out text files, or one shard folder: keeps the epoch of lowest loss on them "
        "and stops after --patience epochs without improvement",
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
    p.add_argument(
        "--patience", type=int, default=2, help="epochs without --validation improvement to stop"
    )
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


def run_pretrain_data(args) -> int:
    from albert_tf.data.pretraining_tfrecord import write_pretraining_shards
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.pretraining import PretrainSettings

    tokenizer = AlbertTokenizer.load(args.tokenizer)
    builder = PretrainSettings.from_args(args).builder(tokenizer)
    meta = write_pretraining_shards(args.input, builder, args.output, num_shards=args.num_shards)
    print(f"wrote {meta['num_examples']} examples in {meta['num_shards']} shards to {args.output}")
    return 0


def run_pretrain(args) -> int:
    # The strategy (and the dtype policy) must be set before any model exists.
    from albert_tf.training.distribute import get_strategy, is_chief, set_precision

    strategy = get_strategy(args.strategy, tpu=args.tpu)
    precision = set_precision(args.precision)

    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.fit_and_save import fit_and_save
    from albert_tf.training.pretraining import PretrainSettings, check_fits, save_pretraining_run

    settings = PretrainSettings.from_args(args)
    tokenizer = AlbertTokenizer.load(args.tokenizer)
    stream, num_examples = _training_stream(args.data, tokenizer, settings)
    validation = _validation_dataset(args.validation, tokenizer, settings)
    with strategy.scope():
        backbone = _backbone(args, tokenizer)
        check_fits(backbone, tokenizer, settings.max_length)
        model = settings.compile(backbone, stream.steps_per_epoch)
    chief = is_chief(strategy)
    os.makedirs(args.out, exist_ok=True)
    print(
        f"pre-training on {num_examples} examples, {stream.steps_per_epoch} steps/epoch, "
        f"{strategy.num_replicas_in_sync} replica(s), precision {precision}"
    )
    result = fit_and_save(
        model, stream, validation, epochs=settings.epochs, out_dir=args.out,
        patience=settings.patience, save_freq=settings.save_freq, write=chief,
    )  # fmt: skip
    if chief:
        corpus = {"train": _absolute(args.data), "validation": _absolute(args.validation)}
        save_pretraining_run(args.out, backbone, tokenizer, result, settings, {"corpus": corpus})
        print(f"wrote {args.out}/backbone.keras")
    return 0


def _absolute(paths: list[str] | None) -> list[str] | None:
    return [os.path.abspath(p) for p in paths] if paths else None


def _shard_folder(paths: list[str]) -> str | None:
    """The one folder of pretrain-data shards that `paths` names, else None (text files)."""
    return paths[0] if len(paths) == 1 and os.path.isdir(paths[0]) else None


def _training_stream(paths: list[str], tokenizer, settings):
    """(StepStream, number of examples) from a shard folder or text files."""
    from albert_tf.data.pretraining import iter_documents
    from albert_tf.data.pretraining_tfrecord import pretraining_shards_dataset, shard_examples
    from albert_tf.training.fit_and_save import StepStream
    from albert_tf.training.pretraining import examples_stream

    shard_dir = _shard_folder(paths)
    if shard_dir is None:
        arrays = settings.builder(tokenizer).build(list(iter_documents(paths)))
        stream = examples_stream(arrays, settings.batch_size, settings.seed)
        return stream, len(arrays["token_ids"])
    num_examples = shard_examples(shard_dir)
    if num_examples < settings.batch_size:
        raise ValueError(
            f"{num_examples} pre-training examples make no batch of {settings.batch_size}; "
            "use more text or a smaller --batch-size."
        )

    def make(skip: int):
        ds = pretraining_shards_dataset(
            shard_dir, settings.batch_size, seed=settings.seed, repeat=True, drop_remainder=True
        )
        return ds.skip(skip)

    return StepStream(make, num_examples // settings.batch_size), num_examples


def _validation_dataset(paths: list[str] | None, tokenizer, settings):
    """The held-out examples, in order, from a shard folder or text files (or None)."""
    if not paths:
        return None
    from albert_tf.data.pretraining import arrays_to_dataset, iter_documents
    from albert_tf.data.pretraining_tfrecord import pretraining_shards_dataset

    shard_dir = _shard_folder(paths)
    if shard_dir is not None:
        return pretraining_shards_dataset(shard_dir, settings.batch_size, shuffle=False)
    arrays = settings.builder(tokenizer).build(list(iter_documents(paths)))
    return arrays_to_dataset(arrays, settings.batch_size, shuffle=False)


def _backbone(args, tokenizer):
    """The checkpoint to continue from (--init-from), or a new model of --config / --preset."""
    import keras

    from albert_tf.config import AlbertConfig
    from albert_tf.convert import load_backbone
    from albert_tf.models.backbone import AlbertBackbone
    from albert_tf.training.builders import preset_backbone

    if args.init_from and args.init_from.endswith(".keras"):
        return keras.models.load_model(args.init_from)
    if args.init_from:
        # Reading a Hugging Face/Google/keras-hub checkpoint needs the converters.
        return load_backbone(args.init_from)
    if args.config:
        return AlbertBackbone(AlbertConfig.from_json_file(args.config))
    return preset_backbone(args.preset, tokenizer.vocab_size, args.max_length)
