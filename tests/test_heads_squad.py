"""SQuAD parsing, windowing, span decoding and scoring, and the QA head end to end."""

import json

import keras
import numpy as np
import pytest

from albert_tf.data.squad import (
    SquadExample,
    SquadFormatError,
    decode_predictions,
    exact_match_score,
    f1_score,
    features_to_arrays,
    read_squad,
    squad_evaluate,
    squad_features,
)
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from tests.heads_helpers import SQUAD_FIXTURE, squad_texts, tiny_backbone, train_sentencepiece


@pytest.fixture(scope="module")
def sp():
    return train_sentencepiece(squad_texts())


def _one_hot_logits(features, positions):
    """Logits that put all mass on the given (start, end) per feature."""
    seq = len(features[0].token_ids)
    start, end = np.full((len(features), seq), -10.0), np.full((len(features), seq), -10.0)
    for i, (s, e) in enumerate(positions):
        start[i, s] = 10.0
        end[i, e] = 10.0
    return start, end


def test_read_squad_v2_counts_and_unanswerable():
    examples = read_squad(SQUAD_FIXTURE)
    assert len(examples) == 13
    impossible = [e.qas_id for e in examples if e.is_impossible]
    assert impossible == ["q4", "q8", "q13"]
    q3 = next(e for e in examples if e.qas_id == "q3")
    start = q3.answers[0]["answer_start"]
    assert q3.context[start : start + len("Agnes Moller")] == "Agnes Moller"


def test_read_squad_v1_file_without_is_impossible(tmp_path):
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "Cats sleep.",
                        "qas": [
                            {
                                "id": "v1",
                                "question": "Who sleeps?",
                                "answers": [{"text": "Cats", "answer_start": 0}] * 3,
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(data))
    (example,) = read_squad(str(path))
    assert not example.is_impossible and len(example.answers) == 3


def test_read_squad_bad_answer_start_names_question(tmp_path):
    data = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "Cats sleep a lot.",
                        "qas": [
                            {
                                "id": "bad-1",
                                "question": "Who sleeps?",
                                "answers": [{"text": "Cats", "answer_start": 3}],
                            }
                        ],
                    }
                ]
            }
        ]
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SquadFormatError, match=r"bad\.json.*bad-1.*answer_start 3"):
        read_squad(str(path))


def test_labels_point_at_the_answer_pieces(sp):
    examples = read_squad(SQUAD_FIXTURE)
    features = squad_features(examples, sp, max_length=256)
    assert len(features) == len(examples)  # everything fits in one window
    for feature, example in zip(features, examples):
        if example.is_impossible:
            assert (feature.start_position, feature.end_position) == (0, 0)
            continue
        a, b = feature.start_position, feature.end_position
        assert 0 < a <= b
        assert feature.segment_ids[a] == 1 and feature.segment_ids[b] == 1
        span = example.context[feature.token_to_chars[a][0] : feature.token_to_chars[b][1]]
        assert span == example.answers[0]["text"]


def test_answer_crossing_a_window_edge_is_labelled_in_the_next_window(sp):
    context = " ".join(f"w{i}" for i in range(40)) + " the answer is right here in the text"
    answer = "right here"
    example = SquadExample(
        "edge", "where?", context, [{"text": answer, "answer_start": context.index(answer)}]
    )
    features = squad_features([example], sp, max_length=32, doc_stride=8)
    assert len(features) > 2
    first, last = context.index(answer), context.index(answer) + len(answer)
    full, partial = [], []
    for i, f in enumerate(features):
        spans = list(f.token_to_chars.values())
        covers_start = any(a <= first < b for a, b in spans)
        covers_end = any(a < last <= b for a, b in spans)
        if covers_start and covers_end:
            full.append(i)
        elif covers_start or covers_end:
            partial.append(i)
    assert partial, "the test context should put the answer across a window edge"
    assert full
    # A window with only part of the answer is labelled [CLS], never a half span.
    assert all(features[i].start_position == features[i].end_position == 0 for i in partial)
    for i in full:
        f = features[i]
        chars = f.token_to_chars
        assert context[chars[f.start_position][0] : chars[f.end_position][1]] == answer
    # Each context token is "max context" (the window where it is most central) in exactly one
    # window, so decoding counts a span once.
    # (Pieces of a word the vocabulary spells with <unk> share the word's span: skip those.)
    owners, shared = {}, set()
    for f in features:
        spans = list(f.token_to_chars.values())
        shared.update(c for c in spans if spans.count(c) > 1)
        for position, chars in f.token_to_chars.items():
            owners.setdefault(chars, []).append(f.token_is_max_context[position])
    checked = [flags for chars, flags in owners.items() if chars not in shared]
    assert len(checked) > 20 and all(sum(flags) == 1 for flags in checked)
    # Decoding from the labelled positions gives the answer text back.
    positions = [(f.start_position, f.end_position) for f in features]
    start, end = _one_hot_logits(features, positions)
    preds = decode_predictions([example], features, start, end)
    assert preds.answers["edge"] == answer


def test_decode_respects_max_answer_length_and_no_answer_threshold(sp):
    examples = read_squad(SQUAD_FIXTURE)[:1]  # q1: "1874"
    features = squad_features(examples, sp, max_length=256)
    assert len(features) == 1
    f = features[0]
    context_positions = sorted(f.token_to_chars)
    first, last = context_positions[0], context_positions[-1]
    start, end = _one_hot_logits(features, [(first, last)])
    # The whole-context span is longer than 5 tokens: the best allowed one wins instead.
    preds = decode_predictions(examples, features, start, end, max_answer_length=5)
    assert preds.answers["q1"] != examples[0].context
    n_best = preds.n_best["q1"]
    assert all(d["end"] - d["start"] + 1 <= 5 for d in n_best)
    full = decode_predictions(examples, features, start, end, max_answer_length=1000)
    assert full.answers["q1"] == examples[0].context
    # v2: a [CLS] score above the best span's by more than the threshold means no answer.
    start[0, 0], end[0, 0] = 30.0, 30.0
    v2 = decode_predictions(examples, features, start, end, version_2_with_negative=True)
    assert v2.answers["q1"] == "" and v2.null_score_diff["q1"] > 0
    lenient = decode_predictions(
        examples,
        features,
        start,
        end,
        version_2_with_negative=True,
        null_score_diff_threshold=1000.0,
        max_answer_length=1000,
    )
    assert lenient.answers["q1"] == examples[0].context


def test_scores_follow_the_official_script():
    # Values worked out by hand from the official SQuAD v2.0 evaluation rules.
    assert exact_match_score("The Denver Broncos!", "denver broncos") == 1
    assert f1_score("Broncos won", "Denver Broncos") == pytest.approx(0.5)
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0
    examples = [
        SquadExample(
            "a",
            "q",
            "Denver Broncos won",
            [{"text": "Denver Broncos", "answer_start": 0}, {"text": "Broncos", "answer_start": 7}],
        ),
        SquadExample("b", "q", "nothing here", [], is_impossible=True),
        SquadExample("c", "q", "red green blue", [{"text": "green blue", "answer_start": 4}]),
    ]
    result = squad_evaluate(examples, {"a": "the Broncos", "b": "", "c": "blue sky"})
    # a: EM 1 (matches "Broncos"); b: EM 1; c: EM 0, F1 = 2*(1/2*1/2)/(1/2+1/2) = 0.5
    assert result["exact_match"] == pytest.approx(200 / 3)
    assert result["f1"] == pytest.approx(250 / 3)
    assert result["NoAns_exact"] == 100.0 and result["HasAns_total"] == 2


def test_question_answerer_overfits_the_fixture(sp):
    keras.utils.set_random_seed(0)
    examples = read_squad(SQUAD_FIXTURE)
    features = squad_features(examples, sp, max_length=64, doc_stride=32)
    assert len(features) > len(examples)  # the fixture also exercises windows
    x, y = features_to_arrays(features)
    model = AlbertQuestionAnswerer(tiny_backbone(sp.get_piece_size()))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=model.default_loss())
    # 60 epochs left the loss at 0.17 on an AVX2-only CPU (EM 61.5: other float paths
    # than the AVX-512 machine it was written on); 120 reach 0.002-0.003 on seeds 0-2.
    history = model.fit(x, y, epochs=120, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    out = model.predict(x, verbose=0)
    preds = decode_predictions(
        examples, features, out["start_logits"], out["end_logits"], version_2_with_negative=True
    )
    result = squad_evaluate(examples, preds.answers)
    assert result["exact_match"] == 100.0 and result["f1"] == 100.0


def test_question_answerer_loss_is_sum_of_start_and_end_cross_entropy(sp):
    model = AlbertQuestionAnswerer(tiny_backbone(50))
    x = {
        "token_ids": np.random.randint(5, 50, size=(3, 12)).astype("int32"),
        "segment_ids": np.zeros((3, 12), "int32"),
        "padding_mask": np.ones((3, 12), "int32"),
    }
    y = {"start_logits": np.array([1, 2, 3]), "end_logits": np.array([4, 5, 6])}
    model.compile(loss=model.default_loss())
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    out = model.predict(x, verbose=0)

    def ce(logits, labels):
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return -logp[np.arange(len(labels)), labels].mean()

    expected = ce(out["start_logits"], y["start_logits"]) + ce(out["end_logits"], y["end_logits"])
    assert loss == pytest.approx(expected, rel=1e-5)


def test_question_answerer_saves_and_loads(tmp_path):
    model = AlbertQuestionAnswerer(tiny_backbone(50))
    x = {
        "token_ids": np.random.randint(5, 50, size=(2, 10)).astype("int32"),
        "segment_ids": np.zeros((2, 10), "int32"),
        "padding_mask": np.ones((2, 10), "int32"),
    }
    path = str(tmp_path / "qa.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    a, b = model.predict(x, verbose=0), restored.predict(x, verbose=0)
    np.testing.assert_allclose(a["start_logits"], b["start_logits"], atol=1e-6)
    np.testing.assert_allclose(a["end_logits"], b["end_logits"], atol=1e-6)
