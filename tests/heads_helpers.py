"""Shared helpers for the tests of the task heads (tests/test_heads_*.py)."""

import io
import json
import os

import numpy as np
import sentencepiece as spm

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SQUAD_FIXTURE = os.path.join(FIXTURES, "squad_tiny_v2.json")


def squad_texts() -> list[str]:
    with open(SQUAD_FIXTURE, encoding="utf-8") as f:
        data = json.load(f)
    texts = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            texts.append(paragraph["context"])
            texts.extend(qa["question"] for qa in paragraph["qas"])
    return texts


def train_sentencepiece(texts: list[str], vocab_size: int = 200) -> spm.SentencePieceProcessor:
    """A tiny unigram model with ALBERT's special ids (<pad>=0 <unk>=1 [CLS]=2 [SEP]=3 [MASK]=4)
    and lower-casing, trained in memory."""
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=proto,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        normalization_rule_name="nmt_nfkc_cf",
        hard_vocab_limit=False,
        minloglevel=2,
    )
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


def tiny_backbone(vocab_size: int, **overrides):
    from albert_tf.config import AlbertConfig
    from albert_tf.models.backbone import AlbertBackbone

    config = AlbertConfig.from_preset("tiny", vocab_size=vocab_size, **overrides)
    return AlbertBackbone(config)


def as_int32(x: dict) -> dict:
    return {k: np.asarray(v, dtype="int32") for k, v in x.items()}
