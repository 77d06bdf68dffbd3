"""Fuzzing the readers of user files: arbitrary bytes and truncations of valid files end in
the package's own error types (DataError, BundleError, CheckpointError, all ValueErrors the
CLI reports in one line), never in another exception, a hang, or a file written elsewhere.

hypothesis rather than atheris: it runs inside pytest on any Python (atheris needs a
clang-built CPython extension and its own runner), shrinks a failure to a minimal input,
and a fixed example budget with `derandomize=True` keeps CI time bounded and repeatable.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albert_tf.convert.errors import CheckpointError
from albert_tf.data.readers import DataError, read_table
from export.runtime import BundleError, Classifier

# Bounded budget per target: about a second of CPU each on a 2-core machine.
BUDGET = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID = {
    ".csv": b'text,label\n"a fine, warm film",pos\ndull and long,neg\n',
    ".tsv": b"text\tlabel\na fine film\tpos\ndull and long\tneg\n",
    ".jsonl": b'{"text": "a fine film", "label": "pos"}\n{"text": "dull", "label": "neg"}\n',
}


def _mutations(valid: bytes):
    """Arbitrary bytes, truncations of a valid file, and valid files with bytes spliced in."""
    truncated = st.integers(0, len(valid)).map(lambda n: valid[:n])
    spliced = st.tuples(st.integers(0, len(valid)), st.binary(max_size=12)).map(
        lambda t: valid[: t[0]] + t[1] + valid[t[0] :]
    )
    return st.one_of(st.binary(max_size=300), truncated, spliced)


def _files_in(folder) -> set[str]:
    return {os.path.join(root, f) for root, _, files in os.walk(folder) for f in files}


@pytest.mark.parametrize("ext", sorted(VALID))
def test_table_readers_raise_only_data_errors(tmp_path, ext):
    path = tmp_path / f"train{ext}"

    @BUDGET
    @given(data=_mutations(VALID[ext]))
    def check(data):
        path.write_bytes(data)
        try:
            ds = read_table(path)
        except DataError:
            return
        assert len(ds.texts) == len(ds.labels) > 0
        assert all(isinstance(t, str) and t.strip() for t in ds.texts)

    check()
    assert _files_in(tmp_path) == {str(path)}


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    from tests.export_helpers import bundle, trained_run

    trained_run(tmp_path_factory)
    return bundle(tmp_path_factory, "dynamic")


@pytest.mark.parametrize("name", ["manifest.json", "labels.txt", "model.tflite", "spiece.model"])
def test_bundle_loader_raises_only_bundle_errors(bundle_dir, tmp_path, name):
    folder = tmp_path / "bundle"
    shutil.copytree(bundle_dir, folder)
    valid = (folder / name).read_bytes()
    # The tflite and spiece files are large: fuzz their head, where the formats live.
    head = valid[:400]

    @BUDGET
    @given(data=_mutations(head))
    def check(data):
        (folder / name).write_bytes(data if len(valid) <= 400 else data + valid[len(head) :])
        try:
            # sha256 checking off too, so the parsers themselves meet the bytes.
            for check_files in (True, False):
                Classifier(str(folder), check_files=check_files).predict_proba(["a fine film"])
        except (BundleError, FileNotFoundError):
            return

    check()
    assert _files_in(tmp_path) == _files_in(folder)


def _tiny_hf_checkpoint(folder) -> dict[str, bytes]:
    from albert_tf.convert.safetensors_io import write_safetensors

    folder.mkdir()
    config = {"model_type": "albert", "architectures": ["AlbertModel"], "vocab_size": 8}
    config.update(embedding_size=4, hidden_size=8, num_hidden_layers=1, num_attention_heads=2)
    config.update(intermediate_size=16, max_position_embeddings=16)
    (folder / "config.json").write_text(json.dumps(config))
    tensors = {"embeddings.word_embeddings.weight": np.ones((8, 4), np.float32)}
    write_safetensors(tensors, str(folder / "model.safetensors"))
    return {n: (folder / n).read_bytes() for n in ("config.json", "model.safetensors")}


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_checkpoint_reader_raises_only_checkpoint_errors(tmp_path, name):
    from albert_tf.convert import open_checkpoint

    folder = tmp_path / "ckpt"
    valid = _tiny_hf_checkpoint(folder)

    @BUDGET
    @given(data=_mutations(valid[name]))
    def check(data):
        (folder / name).write_bytes(data)
        try:
            ckpt = open_checkpoint(str(folder))
            for tensor in list(ckpt.tensors):
                ckpt.get(tensor)
        except CheckpointError:
            return

    check()
    assert _files_in(tmp_path) == _files_in(folder)
