"""ALBERT configuration: the Hugging Face `config.json` keys, presets and validation."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

# ALBERT v2 shapes (Lan et al. 2019, table 1) plus two small shapes of our own
# that train in minutes on a laptop CPU.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(
        embedding_size=64,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
    ),
    "small": dict(
        embedding_size=128,
        hidden_size=256,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=1024,
    ),
    "base": dict(
        embedding_size=128,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
    ),
    "large": dict(
        embedding_size=128,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
    ),
    "xlarge": dict(
        embedding_size=128,
        hidden_size=2048,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=8192,
    ),
    "xxlarge": dict(
        embedding_size=128,
        hidden_size=4096,
        num_hidden_layers=12,
        num_attention_heads=64,
        intermediate_size=16384,
    ),
}

_ACTIVATIONS = ("gelu_new", "gelu", "gelu_fast", "gelu_pytorch_tanh", "relu", "tanh")


class ConfigError(ValueError):
    """A configuration that cannot build a model; the message says what to change."""


@dataclasses.dataclass
class AlbertConfig:
    """Hyper-parameters of an ALBERT model, named as in Hugging Face `config.json`.

    `embedding_projection` is ours: the E -> H dense layer. It is always used
    when `embedding_size != hidden_size`; when they are equal it is a choice
    (Hugging Face ALBERT has it, BERT and the original ALBERT code do not).

    Example:
    >>> config = AlbertConfig.from_preset("base", vocab_size=30000)
    >>> config.hidden_size
    768
    """

    vocab_size: int = 30000
    embedding_size: int = 128
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    inner_group_num: int = 1
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    classifier_dropout_prob: float = 0.1
    embedding_projection: bool = True
    pad_token_id: int = 0
    bos_token_id: int = 2
    eos_token_id: int = 3

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        positive = (
            "vocab_size",
            "embedding_size",
            "hidden_size",
            "num_hidden_layers",
            "num_hidden_groups",
            "inner_group_num",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"AlbertConfig.{name} must be a positive integer, got {value!r}.")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads}); change one of them, e.g. num_attention_heads="
                f"{_largest_divisor(self.hidden_size, self.num_attention_heads)}."
            )
        if self.num_hidden_groups > self.num_hidden_layers:
            raise ConfigError(
                f"num_hidden_groups ({self.num_hidden_groups}) cannot exceed num_hidden_layers "
                f"({self.num_hidden_layers}): every group must be used by at least one layer."
            )
        if self.num_hidden_layers % self.num_hidden_groups:
            raise ConfigError(
                f"num_hidden_layers ({self.num_hidden_layers}) must be divisible by "
                f"num_hidden_groups ({self.num_hidden_groups}) so that each group serves the same "
                f"number of layers; change num_hidden_groups to a divisor of "
                f"{self.num_hidden_layers}."
            )
        if self.hidden_act not in _ACTIVATIONS:
            raise ConfigError(f"hidden_act {self.hidden_act!r} is not one of {_ACTIVATIONS}.")
        for name in (
            "hidden_dropout_prob",
            "attention_probs_dropout_prob",
            "classifier_dropout_prob",
        ):
            value = getattr(self, name)
            if not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}.")
        if self.embedding_size != self.hidden_size and not self.embedding_projection:
            raise ConfigError(
                f"embedding_size ({self.embedding_size}) differs from hidden_size "
                f"({self.hidden_size}), so embedding_projection must be True."
            )
        if self.layer_norm_eps <= 0:
            raise ConfigError(f"layer_norm_eps must be > 0, got {self.layer_norm_eps!r}.")

    # ---------------------------------------------------------------- building
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> AlbertConfig:
        """A preset shape (`tiny`, `small`, `base`, `large`, `xlarge`, `xxlarge`)."""
        if name not in PRESETS:
            raise ConfigError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
        return cls(**{**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AlbertConfig:
        """Build from a dict; keys that are not ALBERT hyper-parameters are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        if "classifier_dropout_prob" in kwargs and kwargs["classifier_dropout_prob"] is None:
            kwargs.pop("classifier_dropout_prob")
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> AlbertConfig:
        """Read a Hugging Face (or our own) `config.json`."""
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON ({e}).") from e
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a JSON object of config keys.")
        try:
            return cls.from_dict(values)
        except TypeError as e:
            raise ConfigError(f"{path}: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str | os.PathLike) -> None:
        """Write JSON atomically (temp file, then rename)."""
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json_string())
        os.replace(tmp, path)

    def replace(self, **changes: Any) -> AlbertConfig:
        return dataclasses.replace(self, **changes)

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def uses_projection(self) -> bool:
        return self.embedding_projection or self.embedding_size != self.hidden_size

    def group_of_layer(self, layer_index: int) -> int:
        """The group serving layer `layer_index`, as in the original and HF code."""
        return int(layer_index * self.num_hidden_groups / self.num_hidden_layers)


def _largest_divisor(n: int, at_most: int) -> int:
    for d in range(min(n, at_most), 0, -1):
        if n % d == 0:
            return d
    return 1
