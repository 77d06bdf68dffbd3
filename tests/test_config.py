"""AlbertConfig: Hugging Face keys, presets, validation messages."""

import json

import pytest

from albert_tf import AlbertConfig, ConfigError

HF_ALBERT_BASE_V2 = {
    "architectures": ["AlbertForMaskedLM"],
    "attention_probs_dropout_prob": 0,
    "bos_token_id": 2,
    "classifier_dropout_prob": 0.1,
    "down_scale_factor": 1,
    "embedding_size": 128,
    "eos_token_id": 3,
    "gap_size": 0,
    "hidden_act": "gelu_new",
    "hidden_dropout_prob": 0,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "inner_group_num": 1,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "albert",
    "net_structure_type": 0,
    "num_attention_heads": 12,
    "num_hidden_groups": 1,
    "num_hidden_layers": 12,
    "num_memory_blocks": 0,
    "pad_token_id": 0,
    "type_vocab_size": 2,
    "vocab_size": 30000,
}


def test_reads_hugging_face_config_json_as_is(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HF_ALBERT_BASE_V2))
    config = AlbertConfig.from_json_file(path)
    assert config == AlbertConfig.from_preset("base", vocab_size=30000, hidden_dropout_prob=0.0)
    assert config.hidden_act == "gelu_new"


def test_json_round_trip(tmp_path):
    config = AlbertConfig.from_preset("large", num_hidden_groups=2)
    config.to_json_file(tmp_path / "c.json")
    assert AlbertConfig.from_json_file(tmp_path / "c.json") == config
    assert not list(tmp_path.glob("*.tmp*")), "temp file left behind"


def test_every_hugging_face_key_is_a_field():
    keys = {
        "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
        "inner_group_num", "num_attention_heads", "intermediate_size", "hidden_act",
        "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
        "type_vocab_size", "initializer_range", "layer_norm_eps", "classifier_dropout_prob",
    }  # fmt: skip
    assert keys <= set(AlbertConfig().to_dict())


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(hidden_size=100, num_attention_heads=12), "divisible by num_attention_heads"),
        (dict(num_hidden_layers=12, num_hidden_groups=5), "divisor of 12"),
        (dict(num_hidden_layers=2, num_hidden_groups=3), "cannot exceed"),
        (dict(embedding_size=64, embedding_projection=False), "embedding_projection must be True"),
        (dict(hidden_act="swishy"), "hidden_act"),
        (dict(vocab_size=0), "vocab_size must be a positive integer"),
        (dict(hidden_dropout_prob=1.5), "hidden_dropout_prob"),
    ],
)
def test_invalid_combinations_say_what_to_change(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        AlbertConfig(**kwargs)


def test_unknown_preset_lists_choices():
    with pytest.raises(ConfigError, match="tiny"):
        AlbertConfig.from_preset("huge")


def test_malformed_json_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="config.json"):
        AlbertConfig.from_json_file(path)


def test_group_of_layer_matches_original_formula():
    config = AlbertConfig(num_hidden_layers=12, num_hidden_groups=3)
    assert [config.group_of_layer(i) for i in range(12)] == [0] * 4 + [1] * 4 + [2] * 4
