"""Distiller: loss formula against numpy, alpha = 1 is hard-label training,
KL to a fixed teacher falls, precomputed logits == live teacher, different
tokenizers, unlabelled rows, intermediate transfer."""

import os

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig, AlbertTokenizer
from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.distillation import (
    UNLABELLED,
    Distiller,
    albert_forward,
    compute_teacher_logits,
    distillation_dataset,
    load_teacher_logits,
)
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
WORDS = ["good", "great", "fine", "bad", "awful", "dull", "film", "movie", "plot", "cast"]


def _texts(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 9))) for _ in range(n)]


def _labels(texts):
    return np.array([int(sum(w in t for w in WORDS[:3]) >= 1) for t in texts], np.int32)


def _classifier(vocab_size, hidden=32, layers=2, seed=0, inner=1, initializer_range=0.02):
    keras.utils.set_random_seed(seed)
    config = AlbertConfig(
        initializer_range=initializer_range,
        vocab_size=vocab_size,
        embedding_size=16,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        inner_group_num=inner,
        max_position_embeddings=64,
        classifier_dropout_prob=0.0,
    )
    return AlbertClassifier(AlbertBackbone(config), num_labels=2)


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))


def _np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _np_loss(y, s, t, alpha, temperature):
    labelled = y >= 0
    ce = -_np_log_softmax(s)[np.arange(len(y)), np.maximum(y, 0)]
    hard = ce[labelled].mean() if labelled.any() else 0.0
    lt, ls = _np_log_softmax(t / temperature), _np_log_softmax(s / temperature)
    kl = (np.exp(lt) * (lt - ls)).sum(-1).mean()
    return alpha * hard + (1 - alpha) * temperature**2 * kl, hard, kl


def test_loss_formula_matches_numpy_with_temperature_squared():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 3)) * 3, rng.normal(size=(5, 3)) * 3
    y = np.array([2, UNLABELLED, 0, 1, UNLABELLED])
    for alpha, temperature in ((0.3, 4.0), (0.0, 1.0), (0.7, 0.5)):
        distiller = Distiller(_classifier(50), temperature=temperature, alpha=alpha)
        out = distiller.distillation_loss(y, s.astype("float32"), t.astype("float32"))
        loss, hard, kl = _np_loss(y, s, t, alpha, temperature)
        np.testing.assert_allclose(float(out["hard"]), hard, rtol=1e-5)
        np.testing.assert_allclose(float(out["soft"]), kl, rtol=1e-5)
        np.testing.assert_allclose(float(out["loss"]), loss, rtol=1e-5)


def test_unlabelled_rows_contribute_only_soft_loss():
    rng = np.random.default_rng(1)
    s, t = rng.normal(size=(4, 2)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    distiller = Distiller(_classifier(50), temperature=2.0, alpha=0.5)
    none = distiller.distillation_loss(np.full(4, UNLABELLED), s, t)
    _, _, kl = _np_loss(np.full(4, UNLABELLED), s, t, 0.5, 2.0)
    assert float(none["hard"]) == 0.0
    np.testing.assert_allclose(float(none["loss"]), 0.5 * 4.0 * kl, rtol=1e-5)
    # Whatever an unlabelled row's student logits, the hard loss ignores it.
    y = np.array([1, UNLABELLED, 0, UNLABELLED])
    s2 = s.copy()
    s2[1] += np.array([50.0, -50.0], "float32")
    h1 = float(distiller.distillation_loss(y, s, t)["hard"])
    h2 = float(distiller.distillation_loss(y, s2, t)["hard"])
    assert h1 == h2


def test_evaluate_loss_equals_numpy(tok):
    texts = _texts(16)
    y = _labels(texts)
    y[::3] = UNLABELLED
    student = _classifier(tok.vocab_size)
    teacher_logits = np.random.default_rng(2).normal(size=(16, 2)).astype("float32") * 2
    distiller = Distiller(student, temperature=3.0, alpha=0.25)
    distiller.compile(optimizer="sgd", jit_compile=False)
    ds = distillation_dataset(texts, y, tok, teacher_logits=teacher_logits, batch_size=16)
    result = distiller.evaluate(ds, return_dict=True, verbose=0)
    s = np.asarray(student(tok(texts, max_length=32), training=False))
    loss, hard, kl = _np_loss(y, s, teacher_logits, 0.25, 3.0)
    np.testing.assert_allclose(result["loss"], loss, rtol=1e-4)
    np.testing.assert_allclose(result["kl"], kl, rtol=1e-4)


def test_kl_to_fixed_teacher_falls_during_fit(tok):
    texts = _texts(32)
    teacher = _classifier(tok.vocab_size, hidden=48, seed=7)
    # A confident fixed teacher: sharpen its logits so the target is far from uniform.
    teacher.logits_layer.kernel.assign(teacher.logits_layer.kernel * 30.0)
    distiller = Distiller(_classifier(tok.vocab_size), teacher, temperature=2.0, alpha=0.0)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    ds = distillation_dataset(texts, None, tok, batch_size=8)
    before = distiller.evaluate(ds, return_dict=True, verbose=0)["kl"]
    history = distiller.fit(ds, epochs=8, verbose=0, shuffle=False).history
    after = distiller.evaluate(ds, return_dict=True, verbose=0)["kl"]
    assert history["kl"][-1] < history["kl"][0]
    assert after < 0.5 * before
    assert not any(w.trainable for w in teacher.weights)


def test_alpha_one_is_exactly_hard_label_training(tok):
    texts = _texts(24)
    y = _labels(texts)
    plain = _classifier(tok.vocab_size, seed=3)
    student = _classifier(tok.vocab_size, seed=3)
    student.set_weights(plain.get_weights())
    plain.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    batches = make_tf_dataset(texts, tok, y, max_length=32, batch_size=8)
    plain.fit(batches, epochs=2, verbose=0, shuffle=False)
    # The teacher's logits are present but must change nothing at alpha = 1.
    noise = np.random.default_rng(0).normal(size=(24, 2)).astype("float32")
    distiller = Distiller(student, temperature=5.0, alpha=1.0)
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    ds = distillation_dataset(
        texts, y, tok, teacher_logits=noise, max_length=32, bucket=False, batch_size=8
    )
    distiller.fit(ds, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(plain.get_weights(), student.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(
        plain.get_weights()[0], _classifier(tok.vocab_size, seed=3).get_weights()[0]
    )


def test_precomputed_logits_equal_live_teacher(tok, tmp_path):
    texts = _texts(24)
    y = _labels(texts)
    teacher = _classifier(tok.vocab_size, hidden=48, seed=5)
    path = str(tmp_path / "teacher.npz")
    logits = compute_teacher_logits(
        teacher, tok, texts, max_length=32, batch_size=5, path=path, progress=False
    )
    expected = np.asarray(teacher(tok(texts, max_length=32), training=False))
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    # The cache is read back, not recomputed (no teacher given now).
    np.testing.assert_array_equal(compute_teacher_logits(None, tok, texts, 32, path=path), logits)
    with pytest.raises(ValueError, match="24 rows of logits for 23 texts"):
        load_teacher_logits(path, texts[:-1])
    with pytest.raises(ValueError, match="other texts"):
        load_teacher_logits(path, texts[::-1])

    weights = _classifier(tok.vocab_size, seed=9).get_weights()
    results = []
    for use_file in (False, True):
        student = _classifier(tok.vocab_size, seed=9)
        student.set_weights(weights)
        distiller = Distiller(student, None if use_file else teacher, temperature=2.0, alpha=0.5)
        distiller.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
        ds = distillation_dataset(
            texts,
            y,
            tok,
            teacher_logits=logits if use_file else None,
            max_length=32,
            batch_size=8,
            shuffle=True,
        )
        history = distiller.fit(ds, epochs=2, verbose=0, shuffle=False)
        results.append((student.get_weights(), history.history["loss"]))
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4)
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_teacher_with_its_own_tokenizer(tok):
    wordpiece = WordPieceTokenizer.load(os.path.join(FIXTURES, "hf", "bert_tiny"))
    texts = _texts(16)
    y = _labels(texts)
    teacher = _classifier(wordpiece.vocab_size, hidden=48, seed=11)
    ds = distillation_dataset(
        texts,
        y,
        tok,
        teacher_tokenizer=wordpiece,
        max_length=32,
        teacher_max_length=24,
        batch_size=16,
        bucket=False,
    )
    x, _ = next(iter(ds))
    # Each model saw the texts through its own tokenizer.
    t_tokens = wordpiece(texts, max_length=24)
    np.testing.assert_array_equal(x["teacher_token_ids"], t_tokens["token_ids"])
    np.testing.assert_array_equal(x["token_ids"], tok(texts, max_length=32)["token_ids"])
    distiller = Distiller(_classifier(tok.vocab_size), teacher, temperature=2.0, alpha=0.5)
    out = distiller.compute_losses(x, y)
    expected = np.asarray(teacher(t_tokens, training=False))
    np.testing.assert_allclose(np.asarray(out["teacher_logits"]), expected, atol=1e-5)
    distiller.compile(optimizer="adam", jit_compile=False)
    history = distiller.fit(ds, epochs=2, verbose=0, shuffle=False).history
    assert np.all(np.isfinite(history["loss"]))
    # Different tokens: hidden transfer falls back to the [CLS] vectors.
    hidden = Distiller(_classifier(tok.vocab_size), teacher, alpha=0.5, hidden_weight=1.0)
    assert float(hidden.compute_losses(x, y)["hidden"]) > 0
    with pytest.raises(ValueError, match="attention transfer"):
        Distiller(_classifier(tok.vocab_size), teacher, attention_weight=1.0).compute_losses(x, y)


def test_hidden_and_attention_transfer_through_projection(tok):
    texts = _texts(24)
    student = _classifier(tok.vocab_size, hidden=32, layers=2)
    # Wide initial weights: the teacher's attention is far from uniform, so there is
    # something to transfer (at initializer_range 0.02 both attend almost uniformly).
    teacher = _classifier(tok.vocab_size, hidden=48, layers=4, seed=4, initializer_range=0.3)
    features = tok(texts, max_length=32)
    logits, hidden, attentions = albert_forward(student, features)
    np.testing.assert_allclose(np.asarray(logits), np.asarray(student(features)), atol=1e-5)
    assert len(hidden) == 3 and len(attentions) == 2
    distiller = Distiller(student, teacher, alpha=0.5, hidden_weight=1.0, attention_weight=1.0)
    assert distiller.layer_map == [(0, 0), (1, 2), (2, 4)]
    assert tuple(distiller.hidden_projection.kernel.shape) == (32, 48)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    ds = distillation_dataset(texts, _labels(texts), tok, max_length=32, batch_size=8)
    history = distiller.fit(ds, epochs=6, verbose=0, shuffle=False).history
    assert history["hidden_loss"][-1] < history["hidden_loss"][0]
    assert history["attention_loss"][-1] < history["attention_loss"][0]
    # The projection is the distiller's, not the student's: saving the student drops it.
    assert all("hidden_projection" not in w.path for w in student.weights)


def test_bad_arguments_are_named(tok):
    with pytest.raises(ValueError, match="alpha"):
        Distiller(_classifier(50), alpha=1.5)
    with pytest.raises(ValueError, match="temperature"):
        Distiller(_classifier(50), temperature=0)
    with pytest.raises(ValueError, match="needs the teacher's logits"):
        Distiller(_classifier(50), alpha=0.5).distillation_loss([0], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="do not fit 3 texts"):
        distillation_dataset(["a", "b", "c"], None, tok, teacher_logits=np.zeros((2, 2)))
