"""Which pretrained teacher reads the user's texts, measured before training.

`--teacher auto` (the default) measures the packaged teachers' tokenizers on the
training texts and takes the first, in this order, that reads them
(`coverage.MAX_UNKNOWN_CHARACTERS`) and knows their words: it cuts them into
pieces at least `KNOWS_WORDS` times as long as a later candidate's (a vocabulary
that spells a language letter by letter can read it, not understand it):

1. `packaged:minilm`, the English MiniLM BERT (22.7M parameters): the measured
   default on English (movie_reviews student 0.828), and the faster teacher;
2. `packaged:e5`, multilingual-e5-small (12 layers, about 100 languages): for
   every text MiniLM cannot read (Chinese: MiniLM leaves most characters [UNK])
   or reads only in short pieces (Dutch book reviews: 2.18 characters a piece
   against e5's 3.39; English: 2.8-3.8 against 2.8-3.4).

Neither reading the texts, the one that reads the most is taken, with a
warning. A teacher the user names is used as named, its coverage printed, and a
warning naming the packaged teacher that reads the texts when it does not.

A teacher with a huge token table (e5: 250,002 pieces, 96M of its 118M
parameters) is pruned to the pieces the training texts use, plus every single
character it spells, before fine-tuning (`prune_checkpoint`): the texts
tokenize exactly as before and each step updates a table of tens of thousands of
rows, not 250,002.

Example:
>>> choice = choose_teacher("auto", ["这部电影很好看"])  # doctest: +SKIP
>>> choice.source, choice.coverage.readable  # doctest: +SKIP
('packaged:e5', True)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from albert_tf.convert import load_tokenizer, packaged_model
from albert_tf.distillation.coverage import Coverage, tokenizer_coverage
from albert_tf.distillation.settings import AUTO
from albert_tf.distillation.vocabulary import prune_checkpoint

CANDIDATES = ("packaged:minilm", "packaged:e5")
PACKAGED_PREFIX = "packaged:"
# Tables larger than this are pruned before the teacher is fine-tuned.
PRUNE_TEACHER_ABOVE = 60_000
PRUNED_TEACHER_FOLDER = "teacher_init"
# A teacher whose pieces are shorter than this share of a later candidate's
# does not know the texts' words (characters per piece, movie_reviews / sms_spam /
# tweets: MiniLM 1.12 / 1.00 / 1.08 of e5's; Dutch 0.64, French 0.82).
KNOWS_WORDS = 0.9


@dataclasses.dataclass(frozen=True)
class TeacherChoice:
    """The teacher taken (`source` as the user or the recipe names it), its
    coverage of the texts, and every candidate measured."""

    source: str
    coverage: Coverage
    measured: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "coverage": self.measured}


def resolve_checkpoint(source: str) -> str:
    """`packaged:NAME` -> the packaged model's folder; anything else as given."""
    if source.startswith(PACKAGED_PREFIX):
        return packaged_model(source[len(PACKAGED_PREFIX) :])
    return source


def measure(source: str, texts: list[str]) -> Coverage:
    """How the tokenizer of `source` covers `texts`, printed as one line."""
    tokenizer = load_tokenizer(resolve_checkpoint(source))
    if tokenizer is None:
        raise FileNotFoundError(f"Teacher {source} has no tokenizer file.")
    coverage = tokenizer_coverage(tokenizer, texts)
    print(f"[recipe] {coverage.describe(source)}", flush=True)
    return coverage


def choose_teacher(teacher: str, texts: list[str]) -> TeacherChoice:
    """The teacher for `texts` (module docstring)."""
    measured: dict[str, Coverage] = {}
    if teacher != AUTO:
        measured[teacher] = measure(teacher, texts)
        if not measured[teacher].readable:
            for candidate in CANDIDATES:
                if candidate != teacher:
                    measured[candidate] = measure(candidate, texts)
            readers = [c for c in CANDIDATES if c in measured and measured[c].readable]
            hint = f"--teacher {readers[0]} reads them" if readers else "no packaged teacher does"
            print(
                f"[recipe] warning: {teacher} cannot read these texts; it is used because "
                f"--teacher names it ({hint})",
                flush=True,
            )
        return _choice(teacher, measured)
    for candidate in CANDIDATES:
        measured[candidate] = measure(candidate, texts)
    readable = [c for c in CANDIDATES if measured[c].readable]
    if readable:
        chosen = readable[0]
        for later in readable[1:]:
            length = measured[later].characters_per_piece
            if measured[chosen].characters_per_piece < KNOWS_WORDS * length:
                chosen = later
        why = "reads the texts" if chosen == readable[0] else "reads them in longer pieces"
        print(f"[recipe] teacher: {chosen} ({why})", flush=True)
        return _choice(chosen, measured)
    best = min(measured, key=lambda c: measured[c].unknown_characters)
    print(
        f"[recipe] warning: no packaged teacher reads these texts well; taking {best}, "
        "which reads the most of them",
        flush=True,
    )
    return _choice(best, measured)


def _choice(source: str, measured: dict[str, Coverage]) -> TeacherChoice:
    return TeacherChoice(source, measured[source], {k: v.as_dict() for k, v in measured.items()})


def teacher_checkpoint(source: str, texts: list[str], out_dir: str) -> str:
    """The folder to fine-tune: `source`'s, or a copy pruned to `texts` in
    OUT/teacher_init when its table is huge (reused when already there)."""
    folder = resolve_checkpoint(source)
    tokenizer = load_tokenizer(folder)
    weights = os.path.join(folder, "model.safetensors")
    if tokenizer is None or tokenizer.vocab_size <= PRUNE_TEACHER_ABOVE:
        return folder
    if not os.path.isfile(weights):  # pruned from safetensors only; else fine-tuned whole
        print(f"[recipe] teacher vocabulary: all {tokenizer.vocab_size:,} pieces", flush=True)
        return folder
    pruned = os.path.join(out_dir, PRUNED_TEACHER_FOLDER)
    if not os.path.isfile(os.path.join(pruned, "config.json")):
        prune_checkpoint(folder, texts, pruned, tokenizer)
    size = load_tokenizer(pruned).vocab_size
    print(
        f"[recipe] teacher vocabulary: {size:,} of {tokenizer.vocab_size:,} pieces (those the "
        "training texts use, and every single character) before fine-tuning",
        flush=True,
    )
    return pruned
