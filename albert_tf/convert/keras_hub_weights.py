"""keras-hub's `AlbertBackbone` in canonical (Hugging Face) names, and back.

keras-hub builds attention with `keras.layers.MultiHeadAttention`, whose
kernels are 3-D ([H, heads, head_size] for query/key/value, [heads,
head_size, H] for the output); the entries reshape them to the 2-D matrices
the other formats use. keras-hub always has the E -> H projection, uses the
tanh GELU and LayerNorm epsilon 1e-12, as the published checkpoints do.
"""

from __future__ import annotations

from albert_tf.config import AlbertConfig
from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.weight_map import Entry


def keras_hub_entries(kh_backbone) -> list[Entry]:
    """Entries of a `keras_hub.models.AlbertBackbone`."""
    b = kh_backbone
    hidden = b.hidden_dim

    def dense(layer, name):
        return [
            Entry(layer.kernel, f"{name}.weight", transpose=True),
            Entry(layer.bias, f"{name}.bias"),
        ]

    def norm(layer, name):
        return [Entry(layer.gamma, f"{name}.weight"), Entry(layer.beta, f"{name}.bias")]

    entries = [
        Entry(b.token_embedding.embeddings, "embeddings.word_embeddings.weight"),
        Entry(b.position_embedding.position_embeddings, "embeddings.position_embeddings.weight"),
        Entry(b.segment_embedding.embeddings, "embeddings.token_type_embeddings.weight"),
        *norm(b.embeddings_layer_norm, "embeddings.LayerNorm"),
        *dense(b.embeddings_projection, "encoder.embedding_hidden_mapping_in"),
    ]
    for g in range(b.num_groups):
        for i in range(b.num_inner_repetitions):
            layer = b.get_layer(f"group_{g}_inner_layer_{i}")
            attn = layer._self_attention_layer
            p = f"encoder.albert_layer_groups.{g}.albert_layers.{i}."
            for part in ("query", "key", "value"):
                d = getattr(attn, f"{part}_dense")
                entries += [
                    Entry(d.kernel, p + f"attention.{part}.weight", True, (hidden, hidden)),
                    Entry(d.bias, p + f"attention.{part}.bias", False, (hidden,)),
                ]
            entries += [
                Entry(
                    attn.output_dense.kernel, p + "attention.dense.weight", True, (hidden, hidden)
                ),
                Entry(attn.output_dense.bias, p + "attention.dense.bias"),
                *norm(layer._self_attention_layer_norm, p + "attention.LayerNorm"),
                *dense(layer._feedforward_intermediate_dense, p + "ffn"),
                *dense(layer._feedforward_output_dense, p + "ffn_output"),
                *norm(layer._feedforward_layer_norm, p + "full_layer_layer_norm"),
            ]
    entries += dense(b.pooled_dense, "pooler")
    return entries


def keras_hub_to_config(kh_backbone) -> AlbertConfig:
    """The `AlbertConfig` of a keras-hub backbone (its fixed numerics included)."""
    b = kh_backbone
    return AlbertConfig(
        vocab_size=b.vocabulary_size,
        embedding_size=b.embedding_dim,
        hidden_size=b.hidden_dim,
        num_hidden_layers=b.num_layers,
        num_hidden_groups=b.num_groups,
        inner_group_num=b.num_inner_repetitions,
        num_attention_heads=b.num_heads,
        intermediate_size=b.intermediate_dim,
        hidden_act="gelu_new",
        hidden_dropout_prob=b.dropout,
        attention_probs_dropout_prob=b.dropout,
        max_position_embeddings=b.max_sequence_length,
        type_vocab_size=b.num_segments,
        layer_norm_eps=1e-12,
        embedding_projection=True,
    )


def config_to_keras_hub(config: AlbertConfig, dtype=None):
    """A keras-hub `AlbertBackbone` of the same shape as `config`.

    keras-hub fixes some numerics; configs it cannot express are refused
    rather than silently changed.
    """
    import keras_hub

    problems = []
    if config.hidden_act not in ("gelu_new", "gelu_fast", "gelu_pytorch_tanh"):
        problems.append(f"hidden_act={config.hidden_act!r} (keras-hub uses the tanh GELU)")
    if abs(config.layer_norm_eps - 1e-12) > 1e-15:
        problems.append(f"layer_norm_eps={config.layer_norm_eps} (keras-hub uses 1e-12)")
    if problems:
        raise CheckpointError(
            "keras-hub's AlbertBackbone cannot express this model: " + "; ".join(problems) + "."
        )
    return keras_hub.models.AlbertBackbone(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        embedding_dim=config.embedding_size,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        num_groups=config.num_hidden_groups,
        num_inner_repetitions=config.inner_group_num,
        dropout=config.hidden_dropout_prob,
        max_sequence_length=config.max_position_embeddings,
        num_segments=config.type_vocab_size,
        dtype=dtype,
    )
