"""BackboneTask: the base of every model that puts a head on an `AlbertBackbone`
(keras-hub's `Task`): one `get_config` / `from_config` for all of them."""

from __future__ import annotations

from typing import Any

import keras

# Constructor arguments that are Keras objects, serialized inside the config: the
# backbone, and the preprocessor of the models that take raw strings.
NESTED = ("backbone", "preprocessor")


class BackboneTask(keras.Model):
    """A Keras model with a `backbone` attribute and a head of its own.

    Its config is the backbone's serialized config, the head's settings
    (`head_config`, a subclass's constructor arguments) and the Keras name and
    trainable flag; `from_config` rebuilds the backbone and calls the constructor.
    """

    def head_config(self) -> dict[str, Any]:
        """The head's constructor arguments (none by default)."""
        return {}

    def get_config(self) -> dict[str, Any]:
        nested = {key: getattr(self, key, None) for key in NESTED}
        return {
            **{k: keras.saving.serialize_keras_object(v) for k, v in nested.items() if v},
            **self.head_config(),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = dict(config)
        for key in NESTED:
            if key in config:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def head_dense(backbone, units: int, name: str, **kwargs) -> keras.layers.Dense:
    """A head's Dense layer, initialised as the backbone's own (truncated normal
    of the config's `initializer_range`)."""
    stddev = backbone.config.initializer_range
    return keras.layers.Dense(
        units,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=stddev),
        name=name,
        **kwargs,
    )


def dropout_and_logits(backbone, units: int, dropout: float | None):
    """(dropout rate, Dropout layer "classifier_dropout", Dense layer "logits") of
    a classifier-style head; the rate defaults to the config's
    `classifier_dropout_prob`."""
    if dropout is None:
        dropout = backbone.config.classifier_dropout_prob
    dropout_layer = keras.layers.Dropout(dropout, name="classifier_dropout")
    return dropout, dropout_layer, head_dense(backbone, units, "logits")
