"""`albert-tf convert`: every output format, and errors as one line."""

import json

import numpy as np

from albert_tf.cli import main
from albert_tf.convert import load_backbone, load_model
from tests.convert_fixtures import TOL, expected, fixture, keras_inputs, max_diff


def test_google_release_to_huggingface_keeps_heads_and_tokenizer(tmp_path, capsys):
    out = tmp_path / "hf"
    assert main(["convert", fixture("google_ckpt"), str(out), "--to", "huggingface"]) == 0
    assert "AlbertPretrainer" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["AlbertForPreTraining"]
    assert (out / "spiece.model").is_file()
    d = expected("google_ckpt")
    assert (
        max_diff(load_backbone(out)(keras_inputs(d))["sequence_output"], d["sequence_output"]) < TOL
    )


def test_huggingface_to_albert_tf_and_keras_hub(tmp_path):
    src = fixture("albert_sequence_classification")
    assert main(["convert", src, str(tmp_path / "a"), "--to", "albert-tf"]) == 0
    d = expected("albert_sequence_classification")
    model = load_model(tmp_path / "a")
    assert type(model).__name__ == "AlbertClassifier"
    assert max_diff(model(keras_inputs(d)), d["logits"]) < TOL
    assert main(["convert", str(tmp_path / "a"), str(tmp_path / "kh"), "--to", "keras-hub"]) == 0
    assert (tmp_path / "kh" / "model.weights.h5").is_file()
    pooled = load_backbone(tmp_path / "kh")(keras_inputs(d))["pooled_output"]
    assert np.abs(np.asarray(pooled) - d["pooled_output"]).max() < TOL


def test_bad_source_is_one_line_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "albert-tf convert: error:" in err and "no such folder" in err
    assert not (tmp_path / "o").exists()


def test_run_folder_to_huggingface_keeps_the_label_names(tmp_path):
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.run_folder import save_run

    src = fixture("albert_sequence_classification")
    assert main(["convert", src, str(tmp_path / "a"), "--to", "albert-tf"]) == 0
    model = load_model(tmp_path / "a")
    labels = [f"class {chr(97 + i)}" for i in range(model.num_labels)]
    tokenizer = AlbertTokenizer.load(fixture("spiece.model"))
    save_run(str(tmp_path / "run"), model, tokenizer, labels, {"max_length": 16})
    assert (
        main(["convert", str(tmp_path / "run"), str(tmp_path / "hf"), "--to", "huggingface"]) == 0
    )
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["id2label"] == {str(i): name for i, name in enumerate(labels)}
    assert config["label2id"] == {name: i for i, name in enumerate(labels)}


def test_run_folder_to_huggingface_says_how_its_tokenizer_cases_text(tmp_path):
    # Without tokenizer_config.json transformers' AlbertTokenizer lower-cases and
    # strips accents: "Très" would reach a cased model as "tres".
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.run_folder import save_run

    src = fixture("albert_sequence_classification")
    assert main(["convert", src, str(tmp_path / "a"), "--to", "albert-tf"]) == 0
    model = load_model(tmp_path / "a")
    labels = [f"class {i}" for i in range(model.num_labels)]
    for lower in (False, True):
        tokenizer = AlbertTokenizer.load(fixture("spiece.model"), lower_case=lower)
        run, hf = tmp_path / f"run{lower}", tmp_path / f"hf{lower}"
        save_run(str(run), model, tokenizer, labels, {"max_length": 16})
        assert json.loads((run / "run.json").read_text())["tokenizer"]["lower_case"] is lower
        assert main(["convert", str(run), str(hf), "--to", "huggingface"]) == 0
        config = json.loads((hf / "tokenizer_config.json").read_text())
        assert config == {
            "tokenizer_class": "AlbertTokenizer",
            "do_lower_case": lower,
            "keep_accents": True,
        }


def test_a_case_folding_sentencepiece_model_is_converted_as_lower_casing(tmp_path):
    # transformers' converted tokenizer drops the model's own normalizer, so a model
    # trained with nmt_nfkc_cf (lower_case False: it folds case itself) must be
    # declared lower-casing, or "Très" reaches it as "T", "rès".
    from albert_tf.convert import save_huggingface
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from tests.hostile_inputs import TINY_SPIECE

    assert AlbertTokenizer.load(TINY_SPIECE).normalization_rule == "nmt_nfkc_cf"
    backbone = load_backbone(fixture("albert_pretraining_g2_i2"))
    save_huggingface(backbone, tmp_path / "hf", tokenizer=TINY_SPIECE, lower_case=False)
    config = json.loads((tmp_path / "hf" / "tokenizer_config.json").read_text())
    assert config["do_lower_case"] is True and config["keep_accents"] is True
