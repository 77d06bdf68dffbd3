"""Run folders as albert-tf wrote them before the TextClassifier, for the tests that
check such folders still load and export."""

from __future__ import annotations

import json


def save_old_run(path, model, tokenizer, labels: list[str], info: dict, record_labels=True):
    """A classifier's run folder of the old layout: model.keras (an AlbertClassifier),
    spiece.model or vocab.txt, labels.txt, and run.json (recording the labels unless
    `record_labels` is False, as before run.json recorded them)."""
    from albert_tf.training.run_folder import build_info

    model.save(str(path / "model.keras"))
    tokenizer.save(str(path))
    (path / "labels.txt").write_text("".join(f"{n}\n" for n in labels), encoding="utf-8")
    info = build_info(model, tokenizer, info)
    if record_labels:
        info["labels"] = list(labels)
    (path / "run.json").write_text(json.dumps(info), encoding="utf-8")
