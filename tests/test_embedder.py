"""Sentence embedders (issue 31): the Keras model, the TextEmbedder bundle, the edge runtime.

A tiny ALBERT embedder (random weights, a WordPiece vocabulary of the tiny BERT
fixture plus accented, CJK and emoji tokens) is exported once. References that
are not the code under test: a numpy mean-pool + normalise over the backbone's
own sequence output (the Keras head), MediaPipe's TextEmbedder with its C++
BertTokenizer (the bundle and the edge runtime), scipy's Spearman (ours), and
a brute-force sort (top-k search).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_VOCAB = ROOT / "tests" / "fixtures" / "hf" / "bert_tiny" / "vocab.txt"
EXTRA_TOKENS = ["café", "naïve", "é", "##é", "映", "画", "🎬", "##🎬", "😀"]
MAX_LENGTH = 16
CORPUS = [
    "the film is charming and clever",
    "a dull and slow movie",
    "the plot is thin but the music is lovely",
    "great cast, great story",
    "what a mess of a script",
    "the ending is sweet",
]
# Accents, CJK, emoji, and texts longer than max_length (cut at the head by both).
EDGE_TEXTS = [
    "café, naïve CAFÉ Déjà-vu: élan",
    "映画 is 映画的 good",
    "funny🎬 film 🎬🎬 😀 👍",
    " ".join(["charming clever"] * 20),
    "the story " + " ".join(["dull"] * 40) + " ending",
    "Crème brûlée, 映画 and 😀 in one text that goes on and on well past the limit " * 3,
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import keras

    from albert_tf import AlbertBackbone, AlbertConfig
    from albert_tf.models import TextPreprocessor
    from albert_tf.models.text_embedder import TextEmbedder
    from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
    from export.embedder import to_embedder_bundle

    keras.utils.set_random_seed(31)
    base = [t for t in BASE_VOCAB.read_text(encoding="utf-8").split("\n") if t]
    tokenizer = WordPieceTokenizer(base + [t for t in EXTRA_TOKENS if t not in base])
    config = AlbertConfig.from_preset(
        "tiny", vocab_size=tokenizer.vocab_size, max_position_embeddings=MAX_LENGTH
    )
    model = TextEmbedder(AlbertBackbone(config), TextPreprocessor(tokenizer, MAX_LENGTH))
    folder = tmp_path_factory.mktemp("embedder")
    bundle = to_embedder_bundle(model, str(folder / "bundle"), CORPUS, "float32")
    return {"model": model, "bundle": bundle, "folder": folder, "tokenizer": tokenizer}


def test_keras_embedding_is_the_masked_mean_of_the_last_layer_normalised(tiny):
    model = tiny["model"]
    batch = model.preprocessor(CORPUS)
    seq = np.asarray(model.backbone(batch)["sequence_output"])
    mask = np.asarray(batch["padding_mask"], np.float64)[..., None]
    mean = (seq * mask).sum(1) / mask.sum(1)
    reference = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    np.testing.assert_allclose(model.predict(batch, verbose=0), reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(model.embed(CORPUS), axis=-1), 1.0, atol=1e-5)


def test_saved_model_keeps_its_tokenizer_and_length(tiny, tmp_path):
    import keras

    path = tmp_path / "embedder.keras"
    tiny["model"].save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.preprocessor.sequence_length == MAX_LENGTH
    np.testing.assert_allclose(loaded.embed(CORPUS), tiny["model"].embed(CORPUS), atol=1e-6)


def test_bundle_has_text_embedder_metadata_and_manifest(tiny):
    from export.metadata import read_associated_files, read_metadata

    bundle = tiny["bundle"]
    assert sorted(os.listdir(bundle)) == ["manifest.json", "model.tflite", "vocab.txt"]
    tflite = Path(bundle, "model.tflite").read_bytes()
    md = read_metadata(tflite)
    sub = md.subgraphMetadata[0]
    assert sorted(t.name.decode() for t in sub.inputTensorMetadata) == [
        "ids",
        "mask",
        "segment_ids",
    ]
    assert [t.name.decode() for t in sub.outputTensorMetadata] == ["embedding"]
    assert read_associated_files(tflite)["vocab.txt"] == Path(bundle, "vocab.txt").read_bytes()
    manifest = json.loads(Path(bundle, "manifest.json").read_text())
    assert manifest["task"] == "embed" and manifest["max_length"] == MAX_LENGTH
    assert manifest["verification"]["keras_cosine_min"] > 0.9999
    assert manifest["verification"]["texts_with_other_ids"] == 0  # ASCII texts only


def test_mediapipe_and_edge_runtime_cosines_agree_to_1e4(tiny):
    """Issue 31's must-show: accents, CJK, emoji and over-long texts."""
    from export.embedder import mediapipe_embeddings
    from export.runtime.embedder import Embedder

    texts = EDGE_TEXTS + CORPUS
    runtime = Embedder(tiny["bundle"]).embed(texts)
    mp = mediapipe_embeddings(os.path.join(tiny["bundle"], "model.tflite"), texts)
    assert mp.shape == runtime.shape
    mp = mp / np.linalg.norm(mp, axis=-1, keepdims=True)
    np.testing.assert_allclose(mp @ mp.T, runtime @ runtime.T, atol=1e-4)
    # The over-long texts really were cut: same vector as their first pieces alone.
    assert len(tiny["tokenizer"].tokenize(EDGE_TEXTS[3])) > MAX_LENGTH


def test_runtime_matches_keras_on_ascii_texts(tiny):
    from export.runtime.embedder import Embedder

    runtime = Embedder(tiny["bundle"]).embed(CORPUS)
    np.testing.assert_allclose(runtime, tiny["model"].embed(CORPUS), atol=1e-4)


def test_index_search_returns_the_brute_force_top_k(tiny, tmp_path):
    from export.runtime.embedder import Embedder, Index, build_index

    emb = Embedder(tiny["bundle"])
    path = tmp_path / "corpus.npz"
    build_index(emb, CORPUS, str(path))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".index-")]
    hits = Index(str(path)).search(emb, "a charming film", k=3)
    vectors, query = emb.embed(CORPUS), emb.embed(["a charming film"])[0]
    scores = [float(v @ query) for v in vectors]
    expected = sorted(range(len(CORPUS)), key=lambda i: -scores[i])[:3]
    assert [h["index"] for h in hits] == expected
    assert [h["text"] for h in hits] == [CORPUS[i] for i in expected]


def test_spearman_equals_scipys():
    from scipy.stats import spearmanr

    from albert_tf.distillation.embedder_run import spearman

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), np.round(rng.normal(size=200), 1)  # ties in b
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).correlation, abs=1e-12)


def test_lee_parser_reads_the_upper_triangle():
    from albert_tf.data.packaged_similarity import parse_lee

    docs = "first doc\nsecond \xa3 doc\nthird doc\n".encode("latin-1")
    matrix = b"1\t0.5\t0.2\n0\t1\t0.7\n0\t0\t1\n"
    data = parse_lee(docs, matrix)
    assert data.texts[1] == "second \xa3 doc"
    assert data.pairs == [(0, 1), (0, 2), (1, 2)] and data.scores == [0.5, 0.2, 0.7]


def test_embed_and_search_commands_run_without_tensorflow(tiny, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    index = tmp_path / "corpus.npz"
    code = (
        "import sys; from albert_tf.cli import main; rc = main(sys.argv[1:]); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; sys.exit(rc)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
        )

    out = cli("embed", tiny["bundle"], "a charming film", "映画 😀")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["a charming film", "映画 😀"]
    assert abs(np.linalg.norm(rows[0]["embedding"]) - 1) < 1e-5
    built = cli("search", tiny["bundle"], "--build", str(corpus), "--index", str(index))
    assert built.returncode == 0, built.stderr
    found = cli("search", tiny["bundle"], "--index", str(index), "-k", "2", "a charming film")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [h["rank"] for h in hits] == [1, 2]


def test_distilled_student_moves_towards_the_teacher(tiny):
    """A tiny teacher, a student from it (fewer parameters, pruned vocabulary): training
    raises its cosine with the teacher's vectors, measured here with numpy."""
    import keras

    from albert_tf.distillation.embedder import (
        EmbedderSettings,
        distill_embedder,
        teacher_embedder,
    )
    from albert_tf.distillation.student_init import student_from_teacher
    from albert_tf.distillation.vocabulary import prune_vocabulary
    from albert_tf.models import TextPreprocessor
    from albert_tf.models.text_embedder import TextEmbedder

    keras.utils.set_random_seed(7)
    teacher, tokenizer = tiny["model"].backbone, tiny["tokenizer"]
    texts = CORPUS * 8
    settings = EmbedderSettings(
        max_length=MAX_LENGTH, embedding_size=8, num_layers=2, teacher_layers=[1],
        epochs=4, batch_size=8, learning_rate=3e-3, generic_texts=0,
    )  # fmt: skip
    target = teacher_embedder(teacher, tokenizer, MAX_LENGTH).embed(CORPUS)
    pruned, kept = prune_vocabulary(tokenizer, texts)
    fresh = TextEmbedder(
        student_from_teacher(
            teacher, 8, 2, [1], max_position_embeddings=MAX_LENGTH, token_ids=kept
        ),
        TextPreprocessor(pruned, MAX_LENGTH),
    )
    before = np.sum(fresh.embed(CORPUS) * target, axis=-1).mean()
    student, report = distill_embedder(texts, teacher, tokenizer, settings, verbose=0)
    after = np.sum(student.embed(CORPUS) * target, axis=-1).mean()
    assert after > before
    assert report["parameters"] < report["teacher_parameters"]
    assert report["vocab_size"] == len(kept) < tokenizer.vocab_size
