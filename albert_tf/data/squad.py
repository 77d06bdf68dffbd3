"""SQuAD v1.1 / v2.0 for extractive question answering.

read_squad(path)                         JSON file -> list of SquadExample
squad_features(examples, tokenizer, ...) windows of `[CLS] question [SEP] context [SEP]`
                                         over long contexts (document stride), with labels
features_to_arrays(features)             -> (inputs dict, labels dict) for `model.fit`
decode_predictions(examples, features, start_logits, end_logits, ...)
                                         n-best span decoding (+ v2 no-answer threshold)
squad_evaluate(examples, answers)        exact match and F1 as the official script computes them

Contexts are split into words on whitespace and each word is tokenized on its
own (as the original BERT/ALBERT code and the TFLite Task Library do), so a
predicted span maps back to whole words of the original context.

Example:
>>> examples = read_squad("dev-v2.0.json")                       # doctest: +SKIP
>>> features = squad_features(examples, tokenizer, max_length=384)  # doctest: +SKIP
>>> x, y = features_to_arrays(features)                          # doctest: +SKIP
>>> out = model.predict(x)                                       # doctest: +SKIP
>>> preds = decode_predictions(examples, features, out["start_logits"],
...                            out["end_logits"])                # doctest: +SKIP
>>> squad_evaluate(examples, preds.answers)["f1"]                # doctest: +SKIP
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from albert_tf.io.files import check_regular_file

PAD_ID, UNK_ID, CLS_ID, SEP_ID = 0, 1, 2, 3


class SquadFormatError(ValueError):
    """A SQuAD file that cannot be read; the message names the file and question."""


@dataclasses.dataclass
class SquadExample:
    """One question about one context paragraph."""

    qas_id: str
    question: str
    context: str
    answers: list[dict[str, Any]]  # [{"text": str, "answer_start": int}], gold answers
    is_impossible: bool = False

    def __post_init__(self) -> None:
        # Words of the context and where each starts/ends in the context string.
        self.words: list[str] = []
        self.word_spans: list[tuple[int, int]] = []
        for match in re.finditer(r"\S+", self.context):
            self.words.append(match.group())
            self.word_spans.append((match.start(), match.end()))

    def char_to_word(self, char_index: int) -> int:
        """The word holding `char_index` (a space maps to the word after it)."""
        for i, (_, end) in enumerate(self.word_spans):
            if char_index < end:
                return i
        return len(self.word_spans) - 1


@dataclasses.dataclass
class SquadFeature:
    """One window of one example, ready for the model."""

    example_index: int
    token_ids: list[int]
    segment_ids: list[int]
    padding_mask: list[int]
    # token position -> (start, end) characters of the context it covers (context tokens only)
    token_to_chars: dict[int, tuple[int, int]]
    # token position -> whether this window gives the token its most context
    token_is_max_context: dict[int, bool]
    start_position: int = 0
    end_position: int = 0


@dataclasses.dataclass
class SquadPredictions:
    """What `decode_predictions` returns."""

    answers: dict[str, str]  # qas_id -> answer text ("" = no answer)
    n_best: dict[str, list[dict[str, Any]]]  # qas_id -> [{"text", "score", ...}] best first
    null_score_diff: dict[str, float]  # qas_id -> null score - best span score


# --------------------------------------------------------------------- reading
def read_squad(path: str) -> list[SquadExample]:
    """Read a SQuAD v1.1 or v2.0 JSON file (`{"data": [{"paragraphs": [...]}]}`).

    v2.0 questions with `"is_impossible": true` have no answers. An answer
    whose `answer_start` does not point at its text is an error naming the
    question id, as are missing fields.
    """
    check_regular_file(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise SquadFormatError(f"{path}: not valid JSON ({e}).") from e
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise SquadFormatError(f'{path}: expected a JSON object with a "data" list (SQuAD format).')
    examples = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = paragraph.get("context")
            if not isinstance(context, str):
                raise SquadFormatError(f'{where}: missing "context" string.')
            for q, qa in enumerate(paragraph.get("qas", [])):
                qid = qa.get("id", f"{a}-{p}-{q}")
                question = qa.get("question")
                if not isinstance(question, str):
                    raise SquadFormatError(f'{where}.qas[{q}] (id {qid}): missing "question".')
                impossible = bool(qa.get("is_impossible", False))
                answers = [] if impossible else list(qa.get("answers", []))
                for answer in answers:
                    text, start = answer.get("text"), answer.get("answer_start")
                    if not isinstance(text, str) or not isinstance(start, int):
                        raise SquadFormatError(
                            f'{where}.qas[{q}] (id {qid}): each answer needs "text" and an '
                            f'integer "answer_start", got {answer!r}.'
                        )
                    if context[start : start + len(text)] != text:
                        raise SquadFormatError(
                            f"{where}.qas[{q}] (id {qid}): answer {text!r} is not at "
                            f"answer_start {start} of the context (found "
                            f"{context[start : start + len(text)]!r})."
                        )
                if not impossible and not answers:
                    raise SquadFormatError(
                        f"{where}.qas[{q}] (id {qid}): no answers and not marked is_impossible."
                    )
                examples.append(SquadExample(qid, question, context, answers, impossible))
    if not examples:
        raise SquadFormatError(f"{path}: no questions found.")
    return examples


# -------------------------------------------------------------------- features
def _encode(tokenizer, text: str) -> list[int]:
    ids = list(tokenizer.encode(text))
    # Tokenizers that pack (add [CLS]/[SEP]) are accepted too: those ids are
    # never pieces of running text.
    return [int(i) for i in ids if i not in (CLS_ID, SEP_ID)]


def _word_pieces(tokenizer, word: str) -> list[tuple[int, tuple[int, int]]]:
    """Pieces of one word, each with its (start, end) characters in the word.

    Piece texts give exact character offsets when they spell the word back
    (SentencePiece with lower-casing does for most text); otherwise every
    piece is given the whole word, so answers snap to word edges.
    """
    ids = _encode(tokenizer, word) or [UNK_ID]  # a dropped word still needs a position
    spans = [(0, len(word))] * len(ids)
    id_to_piece = getattr(tokenizer, "id_to_piece", None) or getattr(tokenizer, "id_to_token", None)
    if id_to_piece is not None:
        texts = [str(id_to_piece(i)).replace("\u2581", "") for i in ids]
        # A bare "\u2581" piece spells nothing: it gets an empty span.
        if "".join(texts).lower() == word.lower():
            spans, position = [], 0
            for text in texts:
                spans.append((position, position + len(text)))
                position += len(text)
    return list(zip(ids, spans))


def _is_max_context(windows: list[tuple[int, int]], window_index: int, position: int) -> bool:
    """Whether `position` has more context on both sides in this window than in any other.

    The score is min(left, right) context + a small bonus for longer windows
    (the original BERT rule), so each token is predicted where it is most
    central.
    """
    best_score, best_index = None, None
    for i, (start, length) in enumerate(windows):
        end = start + length - 1
        if position < start or position > end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_index = score, i
    return best_index == window_index


def _context_pieces(
    tokenizer, example: SquadExample, word_cache: dict
) -> tuple[list[int], list[tuple[int, int]]]:
    """The context's piece ids and each piece's character span in the context."""
    doc_ids: list[int] = []
    doc_chars: list[tuple[int, int]] = []
    for word, (word_start, _) in zip(example.words, example.word_spans):
        pieces = word_cache.get(word)
        if pieces is None:
            pieces = word_cache[word] = _word_pieces(tokenizer, word)
        for piece_id, (a, b) in pieces:
            doc_ids.append(piece_id)
            doc_chars.append((word_start + a, word_start + b))
    return doc_ids, doc_chars


def _answer_tokens(example: SquadExample, doc_chars) -> tuple[int, int] | None:
    """(first, last) context piece of the first answer; None for none."""
    if example.is_impossible:
        return None
    answer = example.answers[0]
    first_char = answer["answer_start"]
    last_char = first_char + len(answer["text"])
    inside = [t for t, (a, b) in enumerate(doc_chars) if a < last_char and b > first_char]
    return (inside[0], inside[-1]) if inside else None


def _windows(num_pieces: int, max_doc: int, doc_stride: int) -> list[tuple[int, int]]:
    """(start, length) of the context windows, each `doc_stride` after the last."""
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        length = min(num_pieces - start, max_doc)
        windows.append((start, length))
        if start + length >= num_pieces:
            return windows
        start += min(length, doc_stride)


def squad_features(
    examples: Sequence[SquadExample],
    tokenizer,
    max_length: int = 384,
    doc_stride: int = 128,
    max_query_length: int = 64,
) -> list[SquadFeature]:
    """Tokenize, cut long contexts into overlapping windows, and label spans.

    Each window holds up to `max_length - len(question) - 3` context tokens;
    the next window starts `doc_stride` tokens later, so an answer that
    crosses one window's edge lies whole inside the next. A window that does
    not contain the whole answer (and every window of an unanswerable
    question) is labelled with start = end = 0, the [CLS] position.

    Args:
        tokenizer: anything with `encode(text) -> list[int]` (an
            `AlbertTokenizer` or a `sentencepiece.SentencePieceProcessor`).
    """
    if doc_stride < 1:
        raise ValueError(f"doc_stride must be >= 1, got {doc_stride}.")
    features = []
    word_cache: dict[str, list[int]] = {}
    for example_index, example in enumerate(examples):
        query = _encode(tokenizer, example.question)[:max_query_length]
        max_doc = max_length - len(query) - 3
        if max_doc < 1:
            raise ValueError(
                f"max_length {max_length} leaves no room for the context after a question of "
                f"{len(query)} tokens (question id {example.qas_id}); raise max_length or lower "
                "max_query_length."
            )
        doc_ids, doc_chars = _context_pieces(tokenizer, example, word_cache)
        answer_tokens = _answer_tokens(example, doc_chars)
        windows = _windows(len(doc_ids), max_doc, doc_stride)
        for window_index, (start, length) in enumerate(windows):
            offset = len(query) + 2  # [CLS] question [SEP]
            token_ids = [CLS_ID, *query, SEP_ID, *doc_ids[start : start + length], SEP_ID]
            segment_ids = [0] * offset + [1] * (length + 1)
            token_to_chars, max_context = {}, {}
            for i in range(length):
                token_to_chars[offset + i] = doc_chars[start + i]
                max_context[offset + i] = _is_max_context(windows, window_index, start + i)
            start_position = end_position = 0
            if answer_tokens is not None:
                a, b = answer_tokens
                if start <= a and b < start + length:
                    start_position, end_position = a - start + offset, b - start + offset
            pad = max_length - len(token_ids)
            features.append(
                SquadFeature(
                    example_index=example_index,
                    token_ids=token_ids + [PAD_ID] * pad,
                    segment_ids=segment_ids + [0] * pad,
                    padding_mask=[1] * len(token_ids) + [0] * pad,
                    token_to_chars=token_to_chars,
                    token_is_max_context=max_context,
                    start_position=start_position,
                    end_position=end_position,
                )
            )
    return features


def features_to_arrays(
    features: Sequence[SquadFeature],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Model inputs and `{"start_logits": starts, "end_logits": ends}` labels (int32)."""
    x = {
        name: np.asarray([getattr(f, name) for f in features], dtype="int32")
        for name in ("token_ids", "segment_ids", "padding_mask")
    }
    y = {
        "start_logits": np.asarray([f.start_position for f in features], dtype="int32"),
        "end_logits": np.asarray([f.end_position for f in features], dtype="int32"),
    }
    return x, y


# -------------------------------------------------------------------- decoding
def decode_predictions(
    examples: Sequence[SquadExample],
    features: Sequence[SquadFeature],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    n_best_size: int = 20,
    max_answer_length: int = 30,
    version_2_with_negative: bool = False,
    null_score_diff_threshold: float = 0.0,
) -> SquadPredictions:
    """Best answer span per question from the logits of all its windows.

    Candidates are (start, end) pairs among each window's `n_best_size`
    highest starts and ends, inside the context, start <= end, at most
    `max_answer_length` tokens, and starting where the window gives that token
    its most context. Score = start_logit + end_logit. With
    `version_2_with_negative`, the answer is "" when the [CLS] score (lowest
    over windows) beats the best span's by more than `null_score_diff_threshold`.
    """
    start_logits = np.asarray(start_logits, dtype="float32")
    end_logits = np.asarray(end_logits, dtype="float32")
    if len(start_logits) != len(features) or len(end_logits) != len(features):
        raise ValueError(
            f"Got {len(start_logits)} start / {len(end_logits)} end logit rows for "
            f"{len(features)} features."
        )
    by_example: dict[int, list[int]] = collections.defaultdict(list)
    for i, feature in enumerate(features):
        by_example[feature.example_index].append(i)

    answers, n_best, null_diff = {}, {}, {}
    for example_index, example in enumerate(examples):
        candidates = []
        null_score = None
        for i in by_example.get(example_index, []):
            feature, starts, ends = features[i], start_logits[i], end_logits[i]
            score_null = float(starts[0] + ends[0])
            null_score = score_null if null_score is None else min(null_score, score_null)
            top_starts = np.argsort(-starts)[:n_best_size]
            top_ends = np.argsort(-ends)[:n_best_size]
            for s in top_starts:
                s = int(s)
                if s not in feature.token_to_chars or not feature.token_is_max_context[s]:
                    continue
                for e in top_ends:
                    e = int(e)
                    if e not in feature.token_to_chars or e < s or e - s + 1 > max_answer_length:
                        continue
                    candidates.append((float(starts[s] + ends[e]), i, s, e))
        candidates.sort(key=lambda c: -c[0])

        entries, seen = [], set()
        for score, i, s, e in candidates:
            feature = features[i]
            text = example.context[feature.token_to_chars[s][0] : feature.token_to_chars[e][1]]
            if text in seen:
                continue
            seen.add(text)
            entries.append({"text": text, "score": score, "feature": i, "start": s, "end": e})
            if len(entries) >= n_best_size:
                break
        if version_2_with_negative and null_score is not None:
            entries.append({"text": "", "score": null_score, "feature": -1, "start": 0, "end": 0})
            entries.sort(key=lambda d: -d["score"])
        best_span = next((d for d in entries if d["text"]), None)
        if not version_2_with_negative:
            answers[example.qas_id] = best_span["text"] if best_span else ""
        else:
            if best_span is None:
                diff = float("inf")
            else:
                diff = (null_score if null_score is not None else -np.inf) - best_span["score"]
            null_diff[example.qas_id] = float(diff)
            answers[example.qas_id] = (
                "" if best_span is None or diff > null_score_diff_threshold else best_span["text"]
            )
        n_best[example.qas_id] = entries
    return SquadPredictions(answers=answers, n_best=n_best, null_score_diff=null_diff)


# ------------------------------------------------------------------ evaluation
def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, squeeze spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, gold: str) -> int:
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalized strings; an empty side scores 1 only if both are."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_evaluate(
    examples: Sequence[SquadExample], predictions: dict[str, str]
) -> dict[str, float]:
    """Exact match and F1 (percent), each the max over a question's gold answers.

    Follows the official v2.0 script (which gives the v1.1 numbers on v1.1
    data): gold answers that normalize to "" are dropped, and a question with
    none left expects the empty answer. Also reports `HasAns_*` / `NoAns_*`
    when both kinds are present. A question with no prediction scores 0.
    """
    exact, f1, has_answer = {}, {}, {}
    for example in examples:
        golds = [a["text"] for a in example.answers if normalize_answer(a["text"])] or [""]
        prediction = predictions.get(example.qas_id, None)
        has_answer[example.qas_id] = golds != [""]
        if prediction is None:
            exact[example.qas_id] = f1[example.qas_id] = 0.0
            continue
        exact[example.qas_id] = max(exact_match_score(prediction, g) for g in golds)
        f1[example.qas_id] = max(f1_score(prediction, g) for g in golds)
    total = len(exact)
    if not total:
        raise ValueError("squad_evaluate got no examples.")
    result = {
        "exact_match": 100.0 * sum(exact.values()) / total,
        "f1": 100.0 * sum(f1.values()) / total,
        "total": float(total),
    }
    for prefix, keep in (("HasAns", True), ("NoAns", False)):
        ids = [q for q, h in has_answer.items() if h == keep]
        if ids and len(ids) < total:
            result[f"{prefix}_exact"] = 100.0 * sum(exact[q] for q in ids) / len(ids)
            result[f"{prefix}_f1"] = 100.0 * sum(f1[q] for q in ids) / len(ids)
            result[f"{prefix}_total"] = float(len(ids))
    return result
