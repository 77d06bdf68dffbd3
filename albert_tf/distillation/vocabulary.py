"""Vocabulary pruning: a student keeps only the teacher's word pieces its domain uses.

A BERT teacher's 30,522-row token table is most of a small student's parameters
(at E=112, 3.4M of a 5.4M-parameter ALBERT), yet movie reviews use about 14k of
those pieces. Dropping the rest frees parameters for what the student lacks
most (another shared block) at the same total size.

What is kept: the special tokens, every single-character piece (`x` and `##x`,
so that any word the full vocabulary could spell is still spelled, in shorter
pieces, never as [UNK]), and the pieces the given texts use. Kept pieces keep
their relative order, so the pruned `vocab.txt` is an ordinary BERT vocabulary.

A SentencePiece (unigram) vocabulary is pruned the same way, and the given texts
keep their exact segmentation: the best-scoring segmentation of a text uses only
kept pieces, and removing other pieces only removes alternatives to it. Its
single characters are many (15,396 in XLM-R's 250,002 pieces, 7,718 of them CJK),
so by default only those of the characters the texts use are kept;
`keep_characters="all"` keeps them all (a teacher pruned before fine-tuning, that
should still spell any text its full vocabulary could).

`prune_checkpoint` applies a pruning to a Hugging Face checkpoint folder, so a
teacher with a huge table (multilingual e5: 96M of its 118M parameters) is
fine-tuned on the rows the texts need.

Example:
>>> from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
>>> tok = WordPieceTokenizer.load("tests/fixtures/hf/bert_tiny/vocab.txt")
>>> small, kept = prune_vocabulary(tok, ["a charming film"], keep_characters=False)
>>> small.tokenize("a charming film"), small.vocab_size
(['a', 'charming', 'film'], 8)
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from collections.abc import Iterable

import numpy as np

from albert_tf.convert.safetensors_io import SafetensorsFile, write_safetensors
from albert_tf.io.files import write_text_atomic
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.tokenizers.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer, _as_list

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def _is_character(token: str) -> bool:
    return len(token) == 1 or (len(token) == 3 and token.startswith("##"))


def prune_vocabulary(
    tokenizer: WordPieceTokenizer | AlbertTokenizer,
    texts: Iterable[str],
    keep_characters: bool | str = True,
    batch_size: int = 512,
) -> tuple[WordPieceTokenizer | AlbertTokenizer, np.ndarray]:
    """The pieces of `tokenizer` that `texts` use, as a new tokenizer.

    Args:
        tokenizer: the teacher's WordPiece or SentencePiece tokenizer.
        texts: the student's training texts (never held-out ones: a piece only
            a test text needs would leak it).
        keep_characters: also keep single-character pieces, so unseen words
            split into smaller known pieces instead of becoming [UNK]: all of
            them for WordPiece; for SentencePiece those of the texts'
            characters, or all with "all".
        batch_size: texts tokenized at a time.

    Returns:
        (pruned tokenizer, `kept`): `kept[i]` is the teacher id of the pruned
        tokenizer's id `i`, increasing; index a teacher table with it
        (`student_from_teacher(..., token_ids=kept)`).
    """
    if not isinstance(tokenizer, WordPieceTokenizer | AlbertTokenizer):
        raise TypeError(
            "prune_vocabulary needs a WordPieceTokenizer or an AlbertTokenizer, got "
            f"{type(tokenizer).__name__}."
        )
    texts = _as_list(texts, "texts")
    if not texts:
        raise ValueError("prune_vocabulary: no texts to count word pieces on.")
    if isinstance(tokenizer, AlbertTokenizer):
        return _prune_sentencepiece(tokenizer, texts, keep_characters)
    used = np.zeros(tokenizer.vocab_size, bool)
    for start in range(0, len(texts), batch_size):
        for row in tokenizer._encode_batch(texts[start : start + batch_size]):
            used[row] = True
    for token in SPECIAL_TOKENS:
        used[tokenizer.token_to_id(token)] = True
    if keep_characters:
        used |= np.array([_is_character(t) for t in tokenizer.vocab])
    kept = np.flatnonzero(used)
    # The student cuts long texts as its teacher was trained to.
    pruned = WordPieceTokenizer(
        [tokenizer.vocab[i] for i in kept],
        tokenizer.lower_case,
        truncation=tokenizer.truncation,
        head_share=tokenizer.head_share,
    )
    return pruned, kept


def _prune_sentencepiece(
    tokenizer: AlbertTokenizer, texts: list[str], keep_characters: bool | str
) -> tuple[AlbertTokenizer, np.ndarray]:
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    model = model_pb2.ModelProto()
    model.ParseFromString(tokenizer.serialized_model)
    used = np.zeros(len(model.pieces), bool)
    used[:5] = True  # <pad> <unk> [CLS] [SEP] [MASK]
    for text in texts:
        used[tokenizer.encode(text)] = True
    if keep_characters:
        # Case folding and NFKC are the model's own normalization (full-width "！" is "!").
        seen = {c for text in texts for c in unicodedata.normalize("NFKC", text).lower()}
        for i, piece in enumerate(model.pieces):
            bare = piece.piece.removeprefix("\u2581")
            used[i] |= (
                len(bare) == 0 or len(bare) == 1 and (keep_characters == "all" or bare in seen)
            )
    kept = np.flatnonzero(used)
    pieces = [model.pieces[i] for i in kept]
    del model.pieces[:]
    model.pieces.extend(pieces)
    model.trainer_spec.vocab_size = len(pieces)
    pruned = AlbertTokenizer(
        model.SerializeToString(),
        lower_case=tokenizer.lower_case,
        truncation=tokenizer.truncation,
        head_share=tokenizer.head_share,
    )
    return pruned, kept


def prune_checkpoint(source: str, texts: list[str], out: str, tokenizer) -> str:
    """A copy of the Hugging Face folder `source` (config.json, model.safetensors)
    whose vocabulary is `prune_vocabulary(tokenizer, texts, keep_characters="all")`:
    its token table keeps those rows, its tokenizer file is the pruned one.
    Written to a temporary folder, then renamed to `out`; returns `out`."""
    pruned, kept = prune_vocabulary(tokenizer, texts, keep_characters="all")
    tmp = f"{out}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    weights = SafetensorsFile(os.path.join(source, "model.safetensors"))
    tensors = {name: weights[name] for name in weights.keys()}
    tensors[WORD_EMBEDDINGS] = tensors[WORD_EMBEDDINGS][kept]
    write_safetensors(tensors, os.path.join(tmp, "model.safetensors"))
    with open(os.path.join(source, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["vocab_size"] = int(len(kept))
    write_text_atomic(os.path.join(tmp, "config.json"), json.dumps(config, indent=2))
    pruned.save(tmp)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out
