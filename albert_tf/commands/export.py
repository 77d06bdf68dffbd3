"""`albert-tf export RUN_DIR --out BUNDLE_DIR`: verified TFLite bundle for MediaPipe / the edge runtime."""

from __future__ import annotations

import argparse

from export.runtime import QUANTIZATION_MODES as MODES  # TensorFlow-free, as the parser must be


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a trained run to a verified TFLite bundle (tokenizer and labels inside)",
        description=(
            "Convert the run's classifier to TFLite (builtin ops only), embed the SentencePiece "
            "model and labels as metadata (MediaPipe TextClassifier reads them), verify it "
            "against the Keras model with our runtime and MediaPipe, and write BUNDLE_DIR "
            "(model.tflite, labels.txt, spiece.model, manifest.json) atomically."
        ),
    )
    p.add_argument("run_dir", help="run folder written by `albert-tf train`")
    p.add_argument("--out", required=True, help="bundle folder to (re)create")
    p.add_argument(
        "--mode", choices=MODES, default="dynamic", help="quantization (default dynamic)"
    )
    p.add_argument("--max-length", type=int, default=None, help="input length (default: the run's)")
    length = p.add_mutually_exclusive_group()
    length.add_argument(
        "--dynamic-length",
        action="store_true",
        default=None,
        help="inputs [1, None]: short texts cost less, long ones are cut as the run was "
        "trained (default for runs that keep head and tail of long texts, i.e. every run "
        "trained since that became the rule)",
    )
    length.add_argument(
        "--fixed-length",
        dest="dynamic_length",
        action="store_false",
        help="inputs [1, max_length] (default for older runs): MediaPipe cuts long texts "
        "at the head",
    )
    p.add_argument(
        "--texts",
        default=None,
        help="held-out texts (default: the validation/test data recorded in the run): "
        "CSV/TSV/JSONL with --text-column/--label-column, or 'label<TAB>text' lines",
    )
    p.add_argument("--text-column", default="text", help="text column of a --texts table")
    p.add_argument("--label-column", default="label", help="label column of a --texts table")
    p.add_argument("--num-verify", type=int, default=200, help="held-out texts to verify on")
    p.add_argument("--no-mediapipe", action="store_true", help="skip MediaPipe verification")
    p.add_argument(
        "--force", action="store_true", help="write the bundle even if verification fails"
    )
    p.add_argument("--zip", action="store_true", help="also write BUNDLE_DIR.zip")
    p.add_argument("--debug", action="store_true", help="show stack traces")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import os

    from export.bundle import BundleSettings, export_run
    from export.embedder import export_embedder_run, is_embedder_run

    if is_embedder_run(args.run_dir):
        bundle = export_embedder_run(
            args.run_dir,
            args.out,
            mode=args.mode,
            texts_file=args.texts,
            num_verify=args.num_verify,
            mediapipe=not args.no_mediapipe,
            force=args.force,
        )
        with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
            print(json.dumps(json.load(f)["verification"]))
        return 0
    bundle = export_run(
        args.run_dir,
        args.out,
        texts_file=args.texts,
        text_column=args.text_column,
        label_column=args.label_column,
        settings=BundleSettings(
            mode=args.mode,
            max_length=args.max_length,
            dynamic_length=args.dynamic_length,
            force=args.force,
            make_zip=args.zip,
            num_verify=args.num_verify,
            use_mediapipe=not args.no_mediapipe,
        ),
    )
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        report = json.load(f)["verification"]
    print(json.dumps({k: report[k] for k in ("keras", "runtime", "mediapipe") if k in report}))
    return 0
