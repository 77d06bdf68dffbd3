"""student_from_teacher: the SVD embedding init against numpy, exactness at full
rank, shared blocks equal to the chosen teacher layers, parameter counts."""

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
from albert_tf.distillation.settings import DistillSettings
from albert_tf.distillation.student_init import (
    embedding_basis,
    factorized_embedding_weights,
    student_from_teacher,
)

V, H, HEADS, FF, POS = 60, 16, 2, 32, 24


def _teacher(embedding_size=H, layers=3, projection=False, seed=0):
    keras.utils.set_random_seed(seed)
    teacher = AlbertBackbone(
        AlbertConfig(
            vocab_size=V,
            embedding_size=embedding_size,
            hidden_size=H,
            num_hidden_layers=layers,
            num_hidden_groups=layers,
            num_attention_heads=HEADS,
            intermediate_size=FF,
            max_position_embeddings=POS,
            hidden_act="gelu",
            embedding_projection=projection,
        )
    )
    # Non-trivial LayerNorm and biases, so that the test sees them carried over.
    rng = np.random.default_rng(seed)
    for w in teacher.weights:
        if "gamma" in w.path or "beta" in w.path or "bias" in w.path:
            w.assign(rng.normal(0.5 if "gamma" in w.path else 0.0, 0.3, w.shape))
    return teacher


def _inputs(batch=3, seq=7, seed=1):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    mask[0, 5:] = 0
    return {
        "token_ids": rng.integers(0, V, (batch, seq)).astype("int32"),
        "segment_ids": rng.integers(0, 2, (batch, seq)).astype("int32"),
        "padding_mask": mask,
    }


def _numpy_embedding(emb, token_ids, segment_ids):
    """The teacher's embedding output, written out in numpy."""
    x = (
        np.asarray(emb.token_embedding.embeddings)[token_ids]
        + np.asarray(emb.position_embedding.embeddings)[: token_ids.shape[1]][None]
        + np.asarray(emb.segment_embedding.embeddings)[segment_ids]
    )
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    x = (x - mean) / np.sqrt(var + emb.layer_norm.epsilon)
    x = x * np.asarray(emb.layer_norm.gamma) + np.asarray(emb.layer_norm.beta)
    if emb.projection_layer is not None:
        x = x @ np.asarray(emb.projection_layer.kernel) + np.asarray(emb.projection_layer.bias)
    return x


@pytest.mark.parametrize("basis", ["tokens", "sum"])
def test_full_rank_reproduces_the_teacher_embedding(basis):
    teacher = _teacher()
    student = student_from_teacher(teacher, embedding_size=H, basis=basis)
    x = _inputs()
    want = _numpy_embedding(teacher.embeddings, x["token_ids"], x["segment_ids"])
    np.testing.assert_allclose(
        np.asarray(teacher.embeddings(x["token_ids"], x["segment_ids"])), want, atol=1e-5
    )
    got = np.asarray(student.embeddings(x["token_ids"], x["segment_ids"]))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_full_rank_through_a_factorized_teacher():
    # A teacher that is itself an ALBERT (E_t = 8 < H): its projection is folded in.
    teacher = _teacher(embedding_size=8, projection=True)
    student = student_from_teacher(teacher, embedding_size=8)
    x = _inputs()
    want = _numpy_embedding(teacher.embeddings, x["token_ids"], x["segment_ids"])
    got = np.asarray(student.embeddings(x["token_ids"], x["segment_ids"]))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_same_layers_give_the_teacher_backbone():
    teacher = _teacher()
    student = student_from_teacher(teacher, embedding_size=H, teacher_layers=[0, 1, 2])
    x = _inputs()
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(
            np.asarray(student(x)[key]), np.asarray(teacher(x)[key]), atol=1e-4
        )


@pytest.mark.parametrize("layer", [0, 2])
def test_shared_block_is_the_chosen_teacher_layer(layer):
    teacher = _teacher()
    student = student_from_teacher(teacher, embedding_size=6, num_layers=4, teacher_layers=[layer])
    assert len(student.encoder.blocks) == 1 and student.config.num_hidden_layers == 4
    rng = np.random.default_rng(2)
    h = rng.normal(size=(2, 5, H)).astype("float32")
    mask = np.zeros((2, 1, 1, 5), "float32")
    mask[1, ..., 3:] = -10000.0
    np.testing.assert_allclose(
        np.asarray(student.encoder.blocks[0](h, mask)),
        np.asarray(teacher.encoder.block(layer, 0)(h, mask)),
        atol=1e-5,
    )
    np.testing.assert_allclose(np.asarray(student.pooler.kernel), np.asarray(teacher.pooler.kernel))


def _zero_units(teacher, units: np.ndarray, weights: str) -> None:
    """Zero `units`' output rows (`weights="output"`) or input columns ("input") in
    every teacher layer."""
    for layer in range(teacher.config.num_hidden_layers):
        block = teacher.encoder.block(layer, 0)
        dense = block.output_dense if weights == "output" else block.intermediate
        kernel = np.asarray(dense.kernel).copy()
        if weights == "output":
            kernel[units] = 0.0
        else:
            kernel[:, units] = 0.0
        dense.kernel.assign(kernel)


def _assert_computes_the_teacher(student, teacher) -> None:
    x = _inputs()
    np.testing.assert_allclose(
        np.asarray(student(x)["sequence_output"]),
        np.asarray(teacher(x)["sequence_output"]),
        atol=1e-4,
    )


def test_narrower_feed_forward_drops_only_units_without_weight():
    # Units whose output rows are zero add nothing to a block's output: a student
    # that keeps the others must compute exactly the teacher's backbone.
    teacher = _teacher()
    dead = np.arange(0, FF, 4)
    _zero_units(teacher, dead, "output")
    student = student_from_teacher(
        teacher, embedding_size=H, teacher_layers=[0, 1, 2], intermediate_size=FF - len(dead)
    )
    assert student.encoder.blocks[0].intermediate_size == FF - len(dead)
    _assert_computes_the_teacher(student, teacher)


def test_units_of_constant_output_are_dropped_into_the_bias():
    # Units with zero input weights output a constant (gelu of their bias) on any
    # text: ranked by variance they go first, and their constant moves into the
    # output bias, so the student still computes exactly the teacher's backbone.
    teacher = _teacher()
    constant = np.arange(1, FF, 4)
    _zero_units(teacher, constant, "input")
    student = student_from_teacher(
        teacher, embedding_size=H, teacher_layers=[0, 1, 2],
        intermediate_size=FF - len(constant), sample_inputs=_inputs(batch=4, seed=5),
    )  # fmt: skip
    _assert_computes_the_teacher(student, teacher)


def test_narrower_feed_forward_keeps_the_units_of_largest_weight():
    teacher = _teacher()
    block = teacher.encoder.block(2, 0)
    w_in, w_out = np.asarray(block.intermediate.kernel), np.asarray(block.output_dense.kernel)
    score = [np.sqrt((w_in[:, j] ** 2).sum() * (w_out[j] ** 2).sum()) for j in range(FF)]
    keep = sorted(np.argsort(score)[-12:])
    student = student_from_teacher(teacher, embedding_size=6, intermediate_size=12)
    got = student.encoder.blocks[0]
    np.testing.assert_array_equal(np.asarray(got.intermediate.kernel), w_in[:, keep])
    np.testing.assert_array_equal(np.asarray(got.output_dense.kernel), w_out[keep])
    np.testing.assert_array_equal(np.asarray(got.query.kernel), np.asarray(block.query.kernel))


def test_feed_forward_share_gives_units_in_steps_of_eight():
    assert DistillSettings().student_intermediate(1536) == 1536
    assert DistillSettings(ffn_share=0.5).student_intermediate(1536) == 768
    assert DistillSettings(ffn_share=0.3).student_intermediate(1536) == 464
    assert DistillSettings(ffn_share=0.001).student_intermediate(1536) == 8
    with pytest.raises(ValueError, match="ffn-share"):
        DistillSettings(ffn_share=0.0)


def test_low_rank_basis_is_the_truncated_svd():
    teacher = _teacher()
    table = np.asarray(teacher.embeddings.token_embedding.embeddings, np.float64)
    centered = table - table.mean(1, keepdims=True)
    singular = np.linalg.svd(centered, compute_uv=False)
    for rank in (1, 5, 10):
        basis = embedding_basis(table, rank)
        np.testing.assert_allclose(basis.T @ basis, np.eye(rank), atol=1e-10)
        np.testing.assert_allclose(basis.sum(0), 0.0, atol=1e-10)
        # Eckart-Young: the residual of the best rank-r subspace is the tail.
        residual = np.linalg.norm(centered - centered @ basis @ basis.T)
        np.testing.assert_allclose(residual, np.sqrt((singular[rank:] ** 2).sum()), rtol=1e-8)


def test_low_rank_student_embedding_is_the_projected_teacher():
    # E < d: after centering, the student sees the teacher's vectors projected on
    # the rank-(E-1) basis, LayerNorm-scaled to the teacher's RMS.
    teacher = _teacher()
    emb = teacher.embeddings
    weights = factorized_embedding_weights(emb, 6)
    x = _inputs()
    s = (
        np.asarray(emb.token_embedding.embeddings)[x["token_ids"]]
        + np.asarray(emb.position_embedding.embeddings)[: x["token_ids"].shape[1]][None]
        + np.asarray(emb.segment_embedding.embeddings)[x["segment_ids"]]
    ).astype(np.float64)
    table = np.asarray(emb.token_embedding.embeddings, np.float64)
    basis = embedding_basis(table, 5)
    proj = s @ basis @ basis.T
    rms = np.sqrt((proj**2).sum(-1, keepdims=True) / H)
    want = proj / rms * np.asarray(emb.layer_norm.gamma) + np.asarray(emb.layer_norm.beta)
    student = student_from_teacher(teacher, embedding_size=6, basis="tokens")
    got = np.asarray(student.embeddings(x["token_ids"], x["segment_ids"]))
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert weights["token"].shape == (V, 6) and weights["kernel"].shape == (6, H)


def test_parameter_count():
    teacher = _teacher()
    E, groups = 6, 2
    student = student_from_teacher(teacher, embedding_size=E, num_layers=4, teacher_layers=[0, 2])
    block = 4 * (H * H + H) + 2 * (2 * H) + (H * FF + FF) + (FF * H + H)
    embedding = (V + POS + 2) * E + 2 * E + E * H + H
    assert student.count_params() == embedding + groups * block + H * H + H
    classifier = AlbertClassifier(student, num_labels=3)
    assert classifier.count_params() == student.count_params() + H * 3 + 3


def test_bad_arguments():
    teacher = _teacher()
    with pytest.raises(ValueError, match="embedding_size"):
        student_from_teacher(teacher, embedding_size=H + 1)
    with pytest.raises(ValueError, match="out of range"):
        student_from_teacher(teacher, embedding_size=4, teacher_layers=[3])
    with pytest.raises(ValueError, match="divisible"):
        student_from_teacher(teacher, embedding_size=4, num_layers=5, teacher_layers=[0, 1])
    with pytest.raises(ValueError, match="basis"):
        student_from_teacher(teacher, embedding_size=4, basis="words")
    with pytest.raises(ValueError, match="intermediate_size"):
        student_from_teacher(teacher, embedding_size=4, intermediate_size=FF + 1)


def _distill_cli_args(tmp_path, tok, config, rows, max_length):
    """`albert-tf distill` arguments for a random teacher run (tokenizer `tok`) and a
    CSV of `rows` (text, label) pairs, repeated 8 times."""
    from albert_tf.training.run_folder import save_run

    keras.utils.set_random_seed(0)
    teacher_dir = str(tmp_path / "teacher")
    save_run(
        teacher_dir,
        AlbertClassifier(AlbertBackbone(config), num_labels=2),
        tok,
        ["neg", "pos"],
        {"task": "single_label", "max_length": max_length},
    )
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows * 8))
    out = str(tmp_path / "student")
    args = ["distill", "--teacher", teacher_dir, "--data", str(data), "--out", out]
    return args + ["--epochs", "1", "--batch-size", "8", "--max-length", str(max_length)]


def _spiece_teacher_args(tmp_path):
    """(`albert-tf distill` arguments, tokenizer) for a random 2-layer teacher with
    64 feed-forward units over the tiny SentencePiece model."""
    import os

    from albert_tf import AlbertTokenizer

    spiece = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
    tok = AlbertTokenizer.load(spiece)
    config = AlbertConfig(
        vocab_size=tok.vocab_size,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    rows = [("a good film", "pos"), ("a dull plot", "neg")]
    return _distill_cli_args(tmp_path, tok, config, rows, max_length=32), tok


def test_distill_cli_student_from_teacher(tmp_path):
    import json
    import os

    from albert_tf.cli import main
    from albert_tf.training.run_folder import load_run

    args, tok = _spiece_teacher_args(tmp_path)
    out = str(tmp_path / "student")
    args += ["--student-from-teacher", "8", "--student-layers", "4", "--teacher-layers", "1"]
    with pytest.raises(ValueError, match="needs a WordPiece teacher"):
        main(args + ["--prune-vocab", "--debug"])
    assert main(args) == 0
    run = load_run(out)
    student = run.model.backbone.config
    assert (student.embedding_size, student.num_hidden_layers, student.num_hidden_groups) == (
        8,
        4,
        1,
    )
    assert run.tokenizer.serialized_model == tok.serialized_model
    info = json.load(open(os.path.join(out, "run.json")))
    assert info["distillation"]["student_from_teacher"] == 8
    assert info["distillation"]["teacher_layers"] == [1]


def test_distill_cli_ffn_share_ranks_units_on_the_training_texts(tmp_path, monkeypatch):
    from albert_tf.cli import main
    from albert_tf.distillation import student_init
    from albert_tf.training.run_folder import load_run

    seen = []

    def recording(backbone, layers, inputs, **kwargs):
        seen.append((list(layers), np.asarray(inputs["padding_mask"])))
        return real(backbone, layers, inputs, **kwargs)

    real = student_init.feed_forward_statistics
    monkeypatch.setattr(student_init, "feed_forward_statistics", recording)
    args, _ = _spiece_teacher_args(tmp_path)
    args += ["--student-from-teacher", "8", "--teacher-layers", "1", "--ffn-share", "0.5"]
    assert main(args) == 0
    assert load_run(str(tmp_path / "student")).model.backbone.config.intermediate_size == 32
    assert len(seen) == 1 and seen[0][0] == [1]
    assert seen[0][1].sum() > 0  # real tokens of the training texts, not only padding


def test_kept_tokens_give_the_teacher_backbone_on_their_ids():
    # A pruned vocabulary: student id i is teacher id kept[i]; at full rank with
    # the teacher's layers, the student on ids i is the teacher on ids kept[i].
    teacher = _teacher()
    kept = np.array([0, 3, 4, 9, 17, 20, 31, 44, 45, 59])
    student = student_from_teacher(
        teacher, embedding_size=H, teacher_layers=[0, 1, 2], token_ids=kept
    )
    assert student.config.vocab_size == len(kept)
    rng = np.random.default_rng(3)
    x = _inputs()
    x["token_ids"] = rng.integers(0, len(kept), x["token_ids"].shape).astype("int32")
    on_teacher = {**x, "token_ids": kept[x["token_ids"]].astype("int32")}
    np.testing.assert_allclose(
        np.asarray(student(x)["sequence_output"]),
        np.asarray(teacher(on_teacher)["sequence_output"]),
        atol=1e-4,
    )


def test_bad_token_ids():
    teacher = _teacher()
    with pytest.raises(ValueError, match="out of range"):
        student_from_teacher(teacher, embedding_size=4, token_ids=[0, 5, V])
    with pytest.raises(ValueError, match="repeats"):
        student_from_teacher(teacher, embedding_size=4, token_ids=[0, 5, 5])
    with pytest.raises(ValueError, match="integer"):
        student_from_teacher(teacher, embedding_size=4, token_ids=[0.5, 1.5])


def test_distill_cli_prunes_a_wordpiece_teacher_vocabulary(tmp_path):
    import json
    import os

    from albert_tf.cli import main
    from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

    vocab = os.path.join(os.path.dirname(__file__), "fixtures", "hf", "bert_tiny", "vocab.txt")
    tok = WordPieceTokenizer.load(vocab)
    config = AlbertConfig(
        vocab_size=tok.vocab_size,
        embedding_size=16,
        hidden_size=16,
        num_hidden_layers=2,
        num_hidden_groups=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    rows = [("a charming film", "pos"), ("a dull plot", "neg")]
    args = _distill_cli_args(tmp_path, tok, config, rows, max_length=16)
    out = str(tmp_path / "student")
    with pytest.raises(ValueError, match="needs --student-from-teacher"):
        main(args + ["--prune-vocab", "--debug"])
    assert main(args + ["--student-from-teacher", "8", "--prune-vocab"]) == 0
    model = keras.models.load_model(os.path.join(out, "model.keras"), compile=False)
    pruned = model.preprocessor.tokenizer  # the run's TextClassifier holds it
    assert isinstance(pruned, WordPieceTokenizer)
    # bert_tiny's single-character pieces are "a", ".", ",", "!", "?", "'", "i"
    # and "##s": 5 specials + those 8 + "charming", "film", "dull", "plot".
    assert pruned.vocab_size == 17
    assert model.backbone.config.vocab_size == 17
    assert pruned.tokenize("a charming plot") == ["a", "charming", "plot"]
    info = json.load(open(os.path.join(out, "run.json")))
    assert info["distillation"]["student_vocabulary"] == 17
