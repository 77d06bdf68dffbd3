"""AlbertBackbone: the functional Keras model every head builds on."""

from __future__ import annotations

from typing import Any

import keras

from albert_tf.config import AlbertConfig
from albert_tf.layers.factorized_embedding import FactorizedEmbedding
from albert_tf.layers.shared_encoder import SharedEncoder


def _as_config(config: AlbertConfig | dict | None, overrides: dict[str, Any]) -> AlbertConfig:
    if config is None:
        return AlbertConfig(**overrides)
    if isinstance(config, dict):
        return AlbertConfig.from_dict({**config, **overrides})
    if overrides:
        return config.replace(**overrides)
    return config


def _embedding_layer(config: AlbertConfig, dtype) -> FactorizedEmbedding:
    """Token + position + segment embeddings, E wide, projected to H."""
    return FactorizedEmbedding(
        vocab_size=config.vocab_size,
        embedding_size=config.embedding_size,
        hidden_size=config.hidden_size,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=config.type_vocab_size,
        projection=config.uses_projection,
        layer_norm_eps=config.layer_norm_eps,
        dropout=config.hidden_dropout_prob,
        initializer_range=config.initializer_range,
        dtype=dtype,
        name="embeddings",
    )


def _encoder_layer(config: AlbertConfig, dtype) -> SharedEncoder:
    """The transformer blocks, shared across layers in groups."""
    return SharedEncoder(
        num_hidden_layers=config.num_hidden_layers,
        num_hidden_groups=config.num_hidden_groups,
        inner_group_num=config.inner_group_num,
        hidden_size=config.hidden_size,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        hidden_act=config.hidden_act,
        layer_norm_eps=config.layer_norm_eps,
        hidden_dropout=config.hidden_dropout_prob,
        attention_dropout=config.attention_probs_dropout_prob,
        initializer_range=config.initializer_range,
        dtype=dtype,
        name="encoder",
    )


def _pooler_layer(config: AlbertConfig, dtype) -> keras.layers.Dense:
    """Dense + tanh over the [CLS] position."""
    return keras.layers.Dense(
        config.hidden_size,
        activation="tanh",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=config.initializer_range),
        dtype=dtype,
        name="pooler",
    )


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertBackbone(keras.Model):
    """ALBERT encoder: factorized embeddings, shared blocks, a tanh pooler.

    Inputs (int32, [batch, seq]): `token_ids`, `segment_ids`, `padding_mask`.
    Outputs: `sequence_output` [batch, seq, H] and `pooled_output` [batch, H]
    (dense + tanh over the first, [CLS], position). Any sequence length up to
    `max_position_embeddings` works with the same model.

    Args:
        config: an `AlbertConfig` (or its dict); keyword arguments override it.
        output_hidden_states: also output `hidden_states`, a list with the
            embedding output and every layer's output (for distillation).

    Example:
    >>> import numpy as np
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> out = backbone({"token_ids": np.ones((1, 8), "int32"),
    ...                 "segment_ids": np.zeros((1, 8), "int32"),
    ...                 "padding_mask": np.ones((1, 8), "int32")})
    >>> out["pooled_output"].shape
    (1, 128)
    """

    def __init__(
        self,
        config: AlbertConfig | dict | None = None,
        output_hidden_states: bool = False,
        dtype=None,
        **kwargs,
    ):
        # Keyword arguments that are config keys override the config, so that
        # AlbertBackbone(vocab_size=..., hidden_size=...) also works.
        config_keys = set(AlbertConfig.__dataclass_fields__)
        overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in config_keys}
        config = _as_config(config, overrides)

        # === Layers ===
        embeddings = _embedding_layer(config, dtype)
        encoder = _encoder_layer(config, dtype)
        pooler = _pooler_layer(config, dtype)

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        x = embeddings(token_ids, segment_ids)
        # The encoder hands back every layer's output and attention in the graph
        # (the blocks compute them anyway); `internals_model` exposes them.
        encoded = encoder(x, padding_mask, output_hidden_states=True, output_attentions=True)
        sequence_output = encoded["sequence_output"]
        pooled_output = pooler(sequence_output[:, 0, :])
        outputs = {"sequence_output": sequence_output, "pooled_output": pooled_output}
        if output_hidden_states:
            outputs["hidden_states"] = encoded["hidden_states"]
        internals = {**outputs, "hidden_states": encoded["hidden_states"]}
        internals["attentions"] = encoded["attentions"]
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs=outputs,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.config = config
        self.output_hidden_states = output_hidden_states
        self.embeddings = embeddings
        self.encoder = encoder
        self.pooler = pooler
        # Plain attributes (not tracked by Keras): graph tensors, and the sub-model
        # built from them on first use; neither changes what is saved.
        object.__setattr__(self, "_internal_outputs", internals)
        object.__setattr__(self, "_internals_model", None)

    def internals_model(self) -> keras.Model:
        """This backbone's own graph with every intermediate output: a model with
        `sequence_output`, `pooled_output`, `hidden_states` (the embedding output
        and each layer's output) and `attentions` (one [batch, heads, seq, seq]
        tensor per block application). It shares this backbone's layers and
        weights, so one call is one forward pass (distillation reads it)."""
        if self._internals_model is None:
            model = keras.Model(self.input, self._internal_outputs, name=f"{self.name}_internals")
            object.__setattr__(self, "_internals_model", model)
        return self._internals_model

    @property
    def token_embedding(self) -> keras.layers.Embedding:
        """The V x E token table (the masked-LM head ties its output to it)."""
        return self.embeddings.token_embedding

    def get_config(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "output_hidden_states": self.output_hidden_states,
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AlbertBackbone:
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)
