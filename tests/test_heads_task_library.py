"""The exported question answerer runs in the TFLite Task Library's BertQuestionAnswerer.

The Task Library is the consumer of the `ids/mask/segment_ids -> end_logits/start_logits`
contract on Android; its Python package (tflite-support 0.4.4, the same C++ core) needs
protobuf < 4, so it lives in its own venv outside the repository:

    python3 -m venv /work/tflsvenv && /work/tflsvenv/bin/pip install tflite-support==0.4.4
    apt-get install libusb-1.0-0      # its metadata module links against it

and this test calls it in a subprocess (set TFLITE_SUPPORT_PYTHON to another interpreter).
The Task Library tokenizes with the SentencePiece model from our metadata, runs the model
and decodes spans itself; its best answer must be the one our own decoding gives.
"""

import json
import os
import subprocess

import keras
import pytest

from albert_tf.data.squad import (
    decode_predictions,
    features_to_arrays,
    normalize_answer,
    read_squad,
    squad_features,
)
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from export.question_answerer import export_question_answerer, run_question_answerer
from tests.heads_helpers import SQUAD_FIXTURE, squad_texts, tiny_backbone, train_sentencepiece

PYTHON = os.environ.get("TFLITE_SUPPORT_PYTHON", "/work/tflsvenv/bin/python")

RUNNER = """
import json, sys
from tflite_support.task import text
qa = text.BertQuestionAnswerer.create_from_file(sys.argv[1])
out = []
for item in json.loads(sys.argv[2]):
    answers = qa.answer(item["context"], item["question"]).answers
    best = answers[0]
    out.append({"text": best.text, "logit": best.pos.logit})
print(json.dumps(out))
"""


@pytest.mark.slow
def test_task_library_bert_question_answerer_gives_our_answers(tmp_path):
    if not os.path.exists(PYTHON):
        pytest.skip(f"no tflite-support interpreter at {PYTHON} (see this file's docstring)")
    keras.utils.set_random_seed(0)
    sp = train_sentencepiece(squad_texts())
    examples = [e for e in read_squad(SQUAD_FIXTURE) if not e.is_impossible]
    # Train at length 128, where every context fits in one window: padding is masked,
    # so the logits of real tokens are the same at the Task Library's fixed length 384.
    train = squad_features(examples, sp, max_length=128)
    assert len(train) == len(examples)
    x, y = features_to_arrays(train)
    model = AlbertQuestionAnswerer(tiny_backbone(sp.get_piece_size()))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=model.default_loss())
    model.fit(x, y, epochs=60, batch_size=8, verbose=0)

    path = export_question_answerer(model, str(tmp_path / "qa.tflite"), sp.serialized_model_proto())
    items = [{"context": e.context, "question": e.question} for e in examples]
    result = subprocess.run(
        [PYTHON, "-c", RUNNER, path, json.dumps(items)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    task_library = json.loads(result.stdout.strip().splitlines()[-1])

    # Our side: the same model file through LiteRT, the Task Library's limits (top 5, 32 tokens).
    features = squad_features(examples, sp, max_length=384, max_query_length=64)
    lite = run_question_answerer(path, features_to_arrays(features)[0])
    ours = decode_predictions(
        examples,
        features,
        lite["start_logits"],
        lite["end_logits"],
        n_best_size=5,
        max_answer_length=32,
    )
    for example, theirs in zip(examples, task_library):
        best = ours.n_best[example.qas_id][0]
        assert normalize_answer(best["text"]) == normalize_answer(example.answers[0]["text"])
        # The Task Library answers with whole space-separated words; we cut at pieces.
        chars = features[best["feature"]].token_to_chars
        assert theirs["text"] == _whole_words(
            example.context, chars[best["start"]][0], chars[best["end"]][1]
        )
        assert theirs["logit"] == pytest.approx(best["score"], abs=1e-3)


def _whole_words(context: str, start: int, end: int) -> str:
    while start > 0 and not context[start - 1].isspace():
        start -= 1
    while end < len(context) and not context[end].isspace():
        end += 1
    return context[start:end]
