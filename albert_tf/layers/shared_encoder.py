"""ALBERT's encoder: a few transformer blocks reused across all layers."""

from __future__ import annotations

import keras
from keras import ops

from albert_tf.layers.transformer_block import TransformerBlock

# Large enough that exp() underflows to zero in float32 and bfloat16, small
# enough to stay finite in float16.
MASK_NEGATIVE = -10000.0


def additive_attention_mask(padding_mask, dtype="float32"):
    """[batch, seq] of 1 (keep) / 0 (pad) -> [batch, 1, 1, seq] of 0 / -10000."""
    mask = ops.cast(padding_mask, dtype)
    return (1.0 - mask[:, None, None, :]) * MASK_NEGATIVE


@keras.saving.register_keras_serializable(package="albert_tf")
class SharedEncoder(keras.layers.Layer):
    """`num_hidden_layers` applications of `num_hidden_groups` groups of blocks.

    Each group holds `inner_group_num` TransformerBlocks. Layer i runs every
    block of group int(i * groups / layers), as the original and Hugging Face
    code do. The same block objects (and so the same weights) serve many
    layers: with one group, twelve layers cost the parameters of one.

    Example:
    >>> import numpy as np
    >>> encoder = SharedEncoder(4, 2, 1, hidden_size=16, num_attention_heads=2,
    ...                         intermediate_size=32)
    >>> len(encoder.blocks), encoder(np.zeros((1, 3, 16)), np.ones((1, 3))).shape
    (2, (1, 3, 16))
    """

    def __init__(
        self,
        num_hidden_layers: int,
        num_hidden_groups: int = 1,
        inner_group_num: int = 1,
        hidden_size: int = 768,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu_new",
        layer_norm_eps: float = 1e-12,
        hidden_dropout: float = 0.0,
        attention_dropout: float = 0.0,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_hidden_layers % num_hidden_groups:
            raise ValueError(
                f"num_hidden_layers {num_hidden_layers} is not divisible by num_hidden_groups "
                f"{num_hidden_groups}."
            )
        self.num_hidden_layers = num_hidden_layers
        self.num_hidden_groups = num_hidden_groups
        self.inner_group_num = inner_group_num
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout = hidden_dropout
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        # Flat list, index group * inner_group_num + inner: one object per
        # distinct set of weights.
        self.blocks = [
            TransformerBlock(
                hidden_size,
                num_attention_heads,
                intermediate_size,
                hidden_act=hidden_act,
                layer_norm_eps=layer_norm_eps,
                hidden_dropout=hidden_dropout,
                attention_dropout=attention_dropout,
                initializer_range=initializer_range,
                dtype=self.dtype_policy,
                name=f"group_{g}_inner_{i}",
            )
            for g in range(num_hidden_groups)
            for i in range(inner_group_num)
        ]

    def block(self, group: int, inner: int) -> TransformerBlock:
        return self.blocks[group * self.inner_group_num + inner]

    def group_of_layer(self, layer_index: int) -> int:
        return int(layer_index * self.num_hidden_groups / self.num_hidden_layers)

    def build(self, hidden_states_shape, padding_mask_shape=None):
        for block in self.blocks:
            block.build(hidden_states_shape)
        self.built = True

    def call(
        self,
        hidden_states,
        padding_mask,
        training=None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        last_layer_positions=None,
    ):
        """Run all layers.

        Returns the last hidden state, or with `output_hidden_states` /
        `output_attentions` a dict with `sequence_output`, `hidden_states` (the
        input and each layer's output, as in Hugging Face) and `attentions`.
        `last_layer_positions` (int [batch, P]) makes the very last block compute
        those rows only (the output is then [batch, P, H]).
        """
        mask = additive_attention_mask(padding_mask, hidden_states.dtype)
        kernels = [None] * len(self.blocks)
        if self.compute_dtype != self.variable_dtype:
            kernels = [block.compute_dtype_kernels() for block in self.blocks]
        x = hidden_states
        all_hidden, all_attn = [x], []
        for layer_index in range(self.num_hidden_layers):
            group = self.group_of_layer(layer_index)
            for inner in range(self.inner_group_num):
                last = (
                    layer_index == self.num_hidden_layers - 1 and inner == self.inner_group_num - 1
                )
                x, probs = self.block(group, inner)(
                    x,
                    mask,
                    training=training,
                    return_attention=True,
                    kernels=kernels[group * self.inner_group_num + inner],
                    query_positions=last_layer_positions if last else None,
                )
                all_attn.append(probs)
            all_hidden.append(x)
        if output_hidden_states or output_attentions:
            return {"sequence_output": x, "hidden_states": all_hidden, "attentions": all_attn}
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            num_hidden_layers=self.num_hidden_layers,
            num_hidden_groups=self.num_hidden_groups,
            inner_group_num=self.inner_group_num,
            hidden_size=self.hidden_size,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act,
            layer_norm_eps=self.layer_norm_eps,
            hidden_dropout=self.hidden_dropout,
            attention_dropout=self.attention_dropout,
            initializer_range=self.initializer_range,
        )
        return config
