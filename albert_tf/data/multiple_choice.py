"""Multiple-choice data (SWAG / COPA / RACE style) as JSON lines.

Each line: `{"context": str, "choices": [str, ...], "label": int}` (`question`
is accepted for `context`; `label` may be omitted for prediction). Every
example must have the same number of choices.

Example:
>>> examples = read_multiple_choice("train.jsonl")                       # doctest: +SKIP
>>> x, y = multiple_choice_arrays(examples, tokenizer, max_length=64)     # doctest: +SKIP
>>> x["token_ids"].shape                                                  # doctest: +SKIP
(n, num_choices, 64)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from albert_tf.io.files import check_regular_file
from albert_tf.tokenizers.sentencepiece import pad_batch


class MultipleChoiceFormatError(ValueError):
    """A multiple-choice file that cannot be read; the message names file and line."""


def read_multiple_choice(path: str) -> list[dict[str, Any]]:
    """Examples `{"context", "choices", "label"}` from a JSON-lines file."""
    examples = []
    num_choices = None
    check_regular_file(path)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise MultipleChoiceFormatError(f"{where}: not valid JSON ({e}).") from e
            context = record.get("context", record.get("question"))
            choices = record.get("choices")
            label = record.get("label")
            if not isinstance(context, str):
                raise MultipleChoiceFormatError(
                    f'{where}: needs a "context" (or "question") string.'
                )
            if not isinstance(choices, list) or len(choices) < 2:
                raise MultipleChoiceFormatError(f'{where}: "choices" must be a list of >= 2 texts.')
            if not all(isinstance(c, str) for c in choices):
                raise MultipleChoiceFormatError(f"{where}: every choice must be a string.")
            if num_choices is None:
                num_choices = len(choices)
            elif len(choices) != num_choices:
                raise MultipleChoiceFormatError(
                    f"{where}: {len(choices)} choices, but earlier lines have {num_choices}."
                )
            if label is not None and (
                not isinstance(label, int)
                or isinstance(label, bool)
                or not 0 <= label < len(choices)
            ):
                raise MultipleChoiceFormatError(
                    f'{where}: "label" must be a choice index 0..{len(choices) - 1}, got {label!r}.'
                )
            examples.append({"context": context, "choices": choices, "label": label})
    if not examples:
        raise MultipleChoiceFormatError(f"{path}: no examples found.")
    return examples


def multiple_choice_arrays(
    examples: Sequence[dict[str, Any]], tokenizer, max_length: int = 128
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Inputs [n, num_choices, max_length] (`[CLS] context [SEP] choice [SEP]`) and labels [n].

    `tokenizer` is an `AlbertTokenizer` (its `pack` truncates long pairs).
    Labels are `None` when any example has none.
    """

    num_choices = len(examples[0]["choices"])
    contexts = [e["context"] for e in examples for _ in e["choices"]]
    choices = [c for e in examples for c in e["choices"]]
    token_ids, segment_ids = tokenizer.pack(contexts, choices, max_length)
    flat = pad_batch(token_ids, segment_ids, int(max_length))
    x = {k: np.asarray(v, "int32").reshape(len(examples), num_choices, -1) for k, v in flat.items()}
    labels = [e["label"] for e in examples]
    y = None if any(label is None for label in labels) else np.asarray(labels, "int32")
    return x, y
