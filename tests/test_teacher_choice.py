"""The recipe measures how a teacher's tokenizer reads the user's texts before training,
and `--teacher auto` takes a packaged teacher that reads them (docs/languages.md)."""

from __future__ import annotations

import pytest

from albert_tf.convert import load_tokenizer
from albert_tf.distillation.coverage import tokenizer_coverage
from tests.convert_fixtures import fixture

TINY_TEACHER = fixture("bert_tiny")  # an English vocabulary of 124 pieces
CHINESE = [
    "这本书写得很好，值得一读。",
    "物流太慢了，包装也破了，很失望。",
    "酒店的服务态度非常好，房间干净。",
    "电影的情节拖沓，演员演技一般。",
]
ENGLISH = ["the film is charming", "a dull and boring plot", "the acting is good"]
DUTCH = [
    "Een prachtig boek, ik heb het in één adem uitgelezen.",
    "Slecht geschreven en de verhaallijn is voorspelbaar.",
    "De levering was snel maar het boek was beschadigd.",
]


def test_coverage_of_a_vocabulary_without_the_script_is_near_zero():
    tokenizer = load_tokenizer(TINY_TEACHER)
    chinese = tokenizer_coverage(tokenizer, CHINESE)
    assert chinese.unknown_characters > 0.9 and not chinese.readable
    assert chinese.unknown_pieces > 0.9
    assert "很" in chinese.unknown_examples  # the most frequent first
    english = tokenizer_coverage(tokenizer, ["the film is charming", "good acting"])
    assert english.readable and english.unknown_pieces == 0.0
    assert english.characters_per_piece == pytest.approx(len("thefilmischarminggoodacting") / 6)


@pytest.fixture(scope="module")
def packaged_teachers():
    from albert_tf.convert import packaged_model
    from albert_tf.data.packaged import DatasetUnavailableError

    try:
        return packaged_model("minilm", quiet=True), packaged_model("e5", quiet=True)
    except (DatasetUnavailableError, Exception) as e:  # an offline machine without the cache
        pytest.skip(f"packaged teachers unavailable: {e}")


def test_a_named_teacher_that_cannot_read_is_reported_and_used_as_named(packaged_teachers, capsys):
    from albert_tf.distillation.teacher_choice import choose_teacher

    choice = choose_teacher(TINY_TEACHER, CHINESE)
    out = capsys.readouterr().out
    assert choice.source == TINY_TEACHER and not choice.coverage.readable
    assert f"{TINY_TEACHER} reads" in out and "warning" in out and "cannot read" in out
    # The packaged teachers are measured beside it.
    assert "packaged:minilm" in choice.measured


def test_auto_takes_minilm_for_english_and_e5_for_chinese(packaged_teachers, capsys):
    from albert_tf.distillation.teacher_choice import choose_teacher

    assert choose_teacher("auto", ENGLISH).source == "packaged:minilm"
    choice = choose_teacher("auto", CHINESE)
    assert choice.source == "packaged:e5" and choice.coverage.readable
    minilm = choice.measured["packaged:minilm"]
    assert minilm["unknown_characters"] > 0.5  # MiniLM spells few CJK characters
    assert choice.measured["packaged:e5"]["unknown_characters"] < 0.01
    assert "teacher: packaged:e5 (reads the texts)" in capsys.readouterr().out


def test_auto_takes_e5_for_latin_script_text_minilm_only_spells(packaged_teachers, capsys):
    from albert_tf.distillation.teacher_choice import KNOWS_WORDS, choose_teacher

    choice = choose_teacher("auto", DUTCH)
    minilm, e5 = choice.measured["packaged:minilm"], choice.measured["packaged:e5"]
    assert minilm["unknown_characters"] < 0.05  # MiniLM reads every letter...
    # ...but cuts the words into far shorter pieces than the multilingual teacher.
    assert minilm["characters_per_piece"] < KNOWS_WORDS * e5["characters_per_piece"]
    assert choice.source == "packaged:e5"
    assert "reads them in longer pieces" in capsys.readouterr().out
