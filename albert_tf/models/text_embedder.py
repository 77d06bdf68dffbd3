"""Sentence embeddings: mean of the last layer over real tokens, L2-normalised.

`AlbertTextEmbedder` is the graph (token ids in, unit vectors out: what TFLite
export converts); `TextEmbedder` adds the `TextPreprocessor` saved inside it,
so a loaded `.keras` file embeds raw strings. The pooling is
sentence-transformers' for all-MiniLM-L6-v2 (the packaged teacher), so a
MiniLM backbone wrapped here gives that model's embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask
from albert_tf.models.text_preprocessor import TextPreprocessor

# Added under the square root so an all-zero vector (never seen in practice)
# normalises to zero rather than NaN.
NORM_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="albert_tf")
class MeanPoolNormalize(keras.layers.Layer):
    """[batch, seq, H] and a [batch, seq] mask -> the masked mean, L2-normalised."""

    def call(self, sequence_output, padding_mask):
        mask = ops.expand_dims(ops.cast(padding_mask, sequence_output.dtype), -1)
        summed = ops.sum(sequence_output * mask, axis=1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        mean = summed / count
        norm = ops.sqrt(ops.sum(mean * mean, axis=-1, keepdims=True) + NORM_EPSILON)
        return mean / norm


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTextEmbedder(BackboneTask):
    """An `AlbertBackbone` whose output is one unit vector [batch, H] per text.

    Example:
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertTextEmbedder(backbone)
    >>> x = {"token_ids": np.ones((1, 8), "int32"), "segment_ids": np.zeros((1, 8), "int32"),
    ...      "padding_mask": np.ones((1, 8), "int32")}
    >>> round(float(np.linalg.norm(model.predict(x, verbose=0)[0])), 4)
    1.0
    """

    def __init__(self, backbone: AlbertBackbone, **kwargs):
        pool = MeanPoolNormalize(name="mean_pool_normalize")
        inputs = backbone.input
        embedding = pool(backbone(inputs)["sequence_output"], inputs["padding_mask"])
        super().__init__(inputs=inputs, outputs=embedding, **kwargs)
        self.backbone = backbone
        self.pool = pool

    @property
    def embedding_size(self) -> int:
        return int(self.backbone.config.hidden_size)


@keras.saving.register_keras_serializable(package="albert_tf")
class TextEmbedder(AlbertTextEmbedder):
    """`AlbertTextEmbedder` on raw strings, its tokenizer and length saved with it.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: a `TextPreprocessor` (no label names needed).

    Example:
    >>> emb = TextEmbedder(backbone, TextPreprocessor(tokenizer, 128))  # doctest: +SKIP
    >>> emb.embed(["a fine film"]).shape                                # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, backbone: AlbertBackbone, preprocessor: TextPreprocessor, **kwargs):
        super().__init__(backbone, **kwargs)
        self.preprocessor = preprocessor

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """float32 [len(texts), H] unit vectors, in input order."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.embedding_size), np.float32)
        batches = self.preprocessor.dataset(texts, batch_size=batch_size)
        return np.asarray(self.predict(batches, verbose=0), np.float32)

    def similarity(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Cosine similarity of a[i] and b[i] for each i."""
        return np.sum(self.embed(a) * self.embed(b), axis=-1)
