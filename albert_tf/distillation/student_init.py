"""A small ALBERT student that starts from its teacher's weights, through ALBERT's
own two parameter savings.

1. Factorized embedding: the teacher's token table (V x d) becomes a V x E table
   and an E -> H projection: a truncated SVD, i.e. the best low-rank
   approximation of the teacher's (centered) embeddings. Position and segment
   tables are projected onto the same basis, and the projection also carries
   the teacher's embedding LayerNorm gain/bias (and its own projection, if any).
2. Cross-layer sharing: each of the student's `num_groups` shared blocks is a
   copy of one teacher layer; the student applies them `num_layers` times.

The pooler is the teacher's. With E = d (and one teacher layer per student
layer) the student computes exactly the teacher's backbone.

Why not a plain SVD of the token table: ALBERT normalizes in the E-wide space
(LayerNorm before the projection), the teacher in its d-wide space, and
LayerNorm does not commute with a projection. So the basis is chosen inside
the mean-zero subspace of R^d (the LayerNorm centering removes the mean
anyway) and written into E coordinates that are themselves mean-zero: then the
student's E-wide LayerNorm does the same centering and scaling as the
teacher's, and E = d reproduces the teacher's embedding output to rounding.
The price is one of the E dimensions: the rank is E - 1.

Example (MiniLM, 22.7M parameters -> a 4.9M-parameter ALBERT):
>>> from albert_tf.convert import load_minilm  # doctest: +SKIP
>>> student = student_from_teacher(load_minilm(), embedding_size=96,
...                                num_layers=6, teacher_layers=[5])  # doctest: +SKIP
>>> AlbertClassifier(student, num_labels=2).count_params()  # doctest: +SKIP
4939970
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from albert_tf.layers.shared_encoder import additive_attention_mask
from albert_tf.models import AlbertBackbone

BASES = ("tokens", "sum")


def _zero_mean_basis(n: int) -> np.ndarray:
    """n x (n - 1), orthonormal columns spanning {x : sum(x) = 0} (Helmert)."""
    if n < 2:
        raise ValueError("A LayerNorm over one dimension has no zero-mean subspace.")
    basis = np.zeros((n, n - 1))
    for j in range(1, n):
        basis[:j, j - 1] = 1.0
        basis[j, j - 1] = -j
        basis[:, j - 1] /= np.sqrt(j * (j + 1))
    return basis


def embedding_basis(
    token_table: np.ndarray,
    rank: int,
    position_table: np.ndarray | None = None,
    segment_table: np.ndarray | None = None,
    basis: str = "tokens",
) -> np.ndarray:
    """d x `rank` orthonormal columns, each of zero mean: the top right singular
    vectors of the centered token table (`basis="tokens"`), or the top
    eigenvectors of the summed second moments of the centered token, position
    and segment tables, each averaged over its rows (`basis="sum"`: the second
    moment of token + position + segment when the three are independent)."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}.")
    d = token_table.shape[1]
    if not 1 <= rank <= d - 1:
        raise ValueError(f"rank must be in [1, {d - 1}], got {rank}.")
    zero_mean = _zero_mean_basis(d)
    tables = [token_table]
    if basis == "sum":
        tables += [t for t in (position_table, segment_table) if t is not None]
    moment = np.zeros((d - 1, d - 1))
    for table in tables:
        x = np.asarray(table, np.float64) @ zero_mean
        moment += x.T @ x / len(x)
    # eigh of the (d-1)^2 second moment = right singular vectors of the
    # table, without an SVD of the V x d table.
    values, vectors = np.linalg.eigh(moment)
    top = vectors[:, np.argsort(values)[::-1][:rank]]
    return zero_mean @ top


def factorized_embedding_weights(
    teacher_embeddings,
    embedding_size: int,
    basis: str = "tokens",
    max_position_embeddings: int | None = None,
    token_ids: Sequence[int] | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The student's FactorizedEmbedding weights from the teacher's.

    `token_ids`: the teacher rows the student keeps, in the student's id order
    (a pruned vocabulary, `prune_vocabulary`); the basis is fitted to them.

    Returns numpy arrays keyed `token`, `position`, `segment`, `gamma`,
    `beta`, `kernel`, `bias` (the E -> H projection)."""
    t = teacher_embeddings
    token = np.asarray(t.token_embedding.embeddings, np.float64)
    if token_ids is not None:
        token = token[_checked_rows(token_ids, len(token))]
    position = np.asarray(t.position_embedding.embeddings, np.float64)
    segment = np.asarray(t.segment_embedding.embeddings, np.float64)
    if max_position_embeddings is not None:
        if max_position_embeddings > len(position):
            raise ValueError(
                f"The teacher has {len(position)} positions, fewer than "
                f"max_position_embeddings={max_position_embeddings}."
            )
        position = position[:max_position_embeddings]
    d = token.shape[1]
    k = int(embedding_size)
    if not 2 <= k <= d:
        raise ValueError(f"embedding_size must be in [2, {d}] (the teacher's width), got {k}.")
    gamma = np.asarray(t.layer_norm.gamma, np.float64)
    beta = np.asarray(t.layer_norm.beta, np.float64)
    if t.projection_layer is not None:
        out_kernel = np.asarray(t.projection_layer.kernel, np.float64)
        out_bias = np.asarray(t.projection_layer.bias, np.float64)
    else:
        out_kernel, out_bias = np.eye(d), np.zeros(d)
    to_teacher = embedding_basis(token, k - 1, position, segment, basis)  # d x (k-1)
    to_student = _zero_mean_basis(k).T  # (k-1) x k, rows of zero mean
    down = to_teacher @ to_student  # d x k
    # LN_k makes the k-wide z of RMS 1 (norm sqrt(k)); the teacher's LayerNorm
    # makes its d-wide vector of norm sqrt(d): sqrt(d / k) restores that norm.
    kernel = np.sqrt(d / k) * (down.T * gamma[None, :]) @ out_kernel
    return {
        "token": token @ down,
        "position": position @ down,
        "segment": segment @ down,
        "gamma": np.ones(k),
        "beta": np.zeros(k),
        "kernel": kernel,
        "bias": beta @ out_kernel + out_bias,
    }


def _checked_rows(token_ids, vocab_size: int) -> np.ndarray:
    ids = np.asarray(token_ids)
    if ids.ndim != 1 or len(ids) < 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"token_ids must be a list of at least 2 integer ids, got {ids!r:.80}.")
    bad = ids[(ids < 0) | (ids >= vocab_size)]
    if len(bad):
        raise ValueError(
            f"token_ids {bad[:5].tolist()} out of range: the teacher has {vocab_size} tokens."
        )
    if len(np.unique(ids)) != len(ids):
        raise ValueError("token_ids repeats a teacher id: each student token needs its own row.")
    return ids


def student_from_teacher(
    teacher_backbone,
    embedding_size: int,
    num_layers: int | None = None,
    teacher_layers: Sequence[int] | None = None,
    basis: str = "sum",
    max_position_embeddings: int | None = None,
    token_ids: Sequence[int] | np.ndarray | None = None,
    intermediate_size: int | None = None,
    sample_inputs: dict[str, np.ndarray] | None = None,
):
    """An `AlbertBackbone` initialised from `teacher_backbone` (an AlbertBackbone,
    e.g. `albert_tf.convert.load_minilm()`): same width, heads, feed-forward size
    and activation; a rank-(E-1) factorized embedding; `len(teacher_layers)`
    shared groups, group g a copy of teacher layer `teacher_layers[g]`, applied
    over `num_layers` layers as ALBERT does (layer i runs group
    int(i * groups / layers)).

    Args:
        teacher_backbone: the teacher AlbertBackbone (BERT-style: any groups).
        embedding_size: the student's E, 2 <= E <= the teacher's embedding width.
        num_layers: student layers; default the teacher's.
        teacher_layers: teacher layer indices (0-based) to copy, one per group;
            default `[last layer]`.
        basis: "sum" (token + position + segment second moments) or "tokens"
            (SVD of the token table); see `embedding_basis`. "sum" is the
            default: on MiniLM (E=112, 6 layers) the fresh student's output had
            cosine 0.157 with the teacher's against at most 0.076 for "tokens"
            (one side measurement on 200 movie_reviews validation texts).
        max_position_embeddings: keep the first rows of the position table only
            (fewer parameters); default all of the teacher's.
        token_ids: keep only these teacher tokens, student id i being teacher
            id `token_ids[i]` (`albert_tf.distillation.prune_vocabulary` gives
            them with the matching tokenizer); default the whole vocabulary.
        intermediate_size: feed-forward units per student block, each block
            keeping the units of its teacher layer that matter most
            (`feed_forward_units`); default all of them.
        sample_inputs: teacher token batches (`token_ids`, `segment_ids`,
            `padding_mask`) of the user's texts: with a narrower feed-forward
            network, units are then ranked by how much their output varies on
            these texts, and the dropped units' mean output moves into the bias.

    Example:
    >>> from albert_tf import AlbertBackbone, AlbertConfig
    >>> teacher = AlbertBackbone(AlbertConfig(vocab_size=50, embedding_size=16,
    ...     hidden_size=16, num_hidden_layers=2, num_hidden_groups=2,
    ...     num_attention_heads=2, intermediate_size=32))
    >>> student = student_from_teacher(teacher, embedding_size=8, num_layers=4,
    ...                                teacher_layers=[1])
    >>> student.config.num_hidden_groups, student.config.embedding_size
    (1, 8)
    """

    config = teacher_backbone.config
    units = int(intermediate_size or config.intermediate_size)
    if not 1 <= units <= config.intermediate_size:
        raise ValueError(
            f"intermediate_size must be in [1, {config.intermediate_size}] (the teacher's), "
            f"got {intermediate_size}."
        )
    num_layers = int(num_layers or config.num_hidden_layers)
    layers = _checked_layers(teacher_layers, config.num_hidden_layers, num_layers)
    weights = factorized_embedding_weights(
        teacher_backbone.embeddings, embedding_size, basis, max_position_embeddings, token_ids
    )
    student_config = config.replace(
        vocab_size=int(len(weights["token"])),
        embedding_size=int(embedding_size),
        num_hidden_layers=num_layers,
        num_hidden_groups=len(layers),
        max_position_embeddings=int(len(weights["position"])),
        intermediate_size=units,
        # E = H still needs the projection: it carries the teacher's LayerNorm.
        embedding_projection=True,
    )
    student = AlbertBackbone(student_config)
    _assign_embeddings(student.embeddings, weights)
    _copy_layers(teacher_backbone, student, layers, units, sample_inputs)
    student.pooler.set_weights(teacher_backbone.pooler.get_weights())
    return student


def _copy_layers(teacher_backbone, student, layers: list[int], units: int, sample_inputs) -> None:
    """Student group g := teacher layer `layers[g]`, with `units` feed-forward units."""
    t_enc, s_enc = teacher_backbone.encoder, student.encoder
    statistics = {}
    # Statistics are per layer, so a teacher with inner groups has its units ranked by weight.
    narrower = units < teacher_backbone.config.intermediate_size
    if narrower and sample_inputs is not None and t_enc.inner_group_num == 1:
        statistics = feed_forward_statistics(teacher_backbone, layers, sample_inputs)
    for group, layer in enumerate(layers):
        t_group = t_enc.group_of_layer(int(layer))
        for inner in range(t_enc.inner_group_num):
            stats = statistics.get(int(layer))
            _copy_block(t_enc.block(t_group, inner), s_enc.block(group, inner), units, stats)


def feed_forward_statistics(
    teacher_backbone, layers: Sequence[int], inputs: dict[str, np.ndarray], batch_size: int = 64
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{layer: (mean, variance)} of each feed-forward unit's output in those teacher
    layers (one block per layer), over the real tokens of `inputs`."""
    encoder = teacher_backbone.encoder
    sums = {int(layer): 0.0 for layer in layers}
    squares, count = dict(sums), 0
    # Length-sorted batches cut to their longest text: padding is most of a
    # max-length batch of short texts.
    lengths = np.asarray(inputs["padding_mask"]).sum(1)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(1, int(lengths[rows].max()))
        batch = {k: np.asarray(v)[rows, :width] for k, v in inputs.items()}
        x = teacher_backbone.embeddings(batch["token_ids"], batch["segment_ids"])
        hidden = encoder(x, batch["padding_mask"], output_hidden_states=True)["hidden_states"]
        mask = additive_attention_mask(batch["padding_mask"])
        real = batch["padding_mask"].reshape(-1).astype(bool)
        count += int(real.sum())
        for layer in sums:
            block = encoder.block(encoder.group_of_layer(layer), 0)
            out = np.asarray(block.feed_forward_activations(hidden[layer], mask), np.float64)[real]
            sums[layer] = sums[layer] + out.sum(0)
            squares[layer] = squares[layer] + (out**2).sum(0)
    stats = {}
    for layer in sums:
        mean = sums[layer] / max(1, count)
        stats[layer] = (mean, np.maximum(squares[layer] / max(1, count) - mean**2, 0.0))
    return stats


def feed_forward_units(
    block, units: int, statistics: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """The `units` feed-forward units of a TransformerBlock that matter most, in
    their original order. With `statistics` (their outputs' mean and variance on
    real text): the variance each adds to the block's output, variance times
    the squared norm of its output row (its mean is a constant the bias can
    take). Without: the norm of its input column times that of its output row,
    a bound on how far it can move the output per unit of activation."""
    w_out = np.asarray(block.output_dense.kernel, np.float64)
    if statistics is not None:
        score = statistics[1] * (w_out**2).sum(1)
    else:
        w_in = np.asarray(block.intermediate.kernel, np.float64)
        score = np.linalg.norm(w_in, axis=0) * np.linalg.norm(w_out, axis=1)
    return np.sort(np.argsort(-score, kind="stable")[:units])


def _copy_block(source, target, units: int, statistics=None) -> None:
    """`source`'s weights into `target`, keeping `units` of its feed-forward units
    (and, with `statistics`, the dropped units' mean output in the output bias)."""
    if units == source.intermediate_size:
        target.set_weights(source.get_weights())
        return
    for name in ("query", "key", "value", "attention_output", "attention_layer_norm",
                 "output_layer_norm"):  # fmt: skip
        getattr(target, name).set_weights(getattr(source, name).get_weights())
    keep = feed_forward_units(source, units, statistics)
    kernel, bias = source.intermediate.get_weights()
    target.intermediate.set_weights([kernel[:, keep], bias[keep]])
    kernel, bias = source.output_dense.get_weights()
    if statistics is not None:
        dropped = np.setdiff1d(np.arange(len(kernel)), keep)
        bias = (bias + statistics[0][dropped] @ kernel[dropped]).astype(bias.dtype)
    target.output_dense.set_weights([kernel[keep], bias])


def _checked_layers(teacher_layers, n_teacher: int, num_layers: int) -> list[int]:
    """`teacher_layers` (default the last one), each in range, dividing `num_layers`."""
    layers = list(teacher_layers) if teacher_layers is not None else [n_teacher - 1]
    if not layers:
        raise ValueError("teacher_layers must name at least one teacher layer.")
    bad = [i for i in layers if not 0 <= int(i) < n_teacher]
    if bad:
        raise ValueError(f"teacher_layers {bad} out of range: the teacher has {n_teacher} layers.")
    if num_layers % len(layers):
        raise ValueError(
            f"num_layers {num_layers} is not divisible by the {len(layers)} shared groups."
        )
    return layers


def _assign_embeddings(emb, weights: dict[str, np.ndarray]) -> None:
    """Write `factorized_embedding_weights` into a FactorizedEmbedding."""
    targets = {
        "token": emb.token_embedding.embeddings,
        "position": emb.position_embedding.embeddings,
        "segment": emb.segment_embedding.embeddings,
        "gamma": emb.layer_norm.gamma,
        "beta": emb.layer_norm.beta,
        "kernel": emb.projection_layer.kernel,
        "bias": emb.projection_layer.bias,
    }
    for name, variable in targets.items():
        variable.assign(weights[name].astype("float32"))
