"""An independent numpy forward pass of ALBERT, written from the paper and the
Hugging Face code's equations, used to check the Keras layers."""

import math

import numpy as np


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def block_forward(x, mask, w, heads, eps):
    """w: dict of numpy arrays keyed like our weight paths' tails."""
    b, s, h = x.shape
    d = h // heads

    def proj(t, name):
        return t @ w[f"{name}/kernel"] + w[f"{name}/bias"]

    def split(t):
        return t.reshape(b, s, heads, d).transpose(0, 2, 1, 3)

    q, k, v = split(proj(x, "query")), split(proj(x, "key")), split(proj(x, "value"))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    scores = scores + (1.0 - mask[:, None, None, :]) * -1e9
    ctx = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
    x = layer_norm(
        x + proj(ctx, "attention_output"),
        w["attention_layer_norm/gamma"],
        w["attention_layer_norm/beta"],
        eps,
    )
    ffn = proj(gelu_tanh(proj(x, "intermediate")), "output")
    return layer_norm(x + ffn, w["output_layer_norm/gamma"], w["output_layer_norm/beta"], eps)


def albert_forward(weights, config, token_ids, segment_ids, padding_mask):
    """weights: {path: array} from a Keras AlbertBackbone (paths as in `.weights`)."""
    e = "embeddings/"
    s = token_ids.shape[1]
    x = (
        weights[e + "token_embedding/embeddings"][token_ids]
        + weights[e + "position_embedding/embeddings"][:s][None]
        + weights[e + "segment_embedding/embeddings"][segment_ids]
    )
    x = layer_norm(
        x,
        weights[e + "embeddings_layer_norm/gamma"],
        weights[e + "embeddings_layer_norm/beta"],
        config.layer_norm_eps,
    )
    if e + "embedding_projection/kernel" in weights:
        x = (
            x @ weights[e + "embedding_projection/kernel"]
            + weights[e + "embedding_projection/bias"]
        )
    mask = padding_mask.astype(np.float64)
    for i in range(config.num_hidden_layers):
        g = int(i * config.num_hidden_groups / config.num_hidden_layers)
        for j in range(config.inner_group_num):
            prefix = f"encoder/group_{g}_inner_{j}/"
            w = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
            x = block_forward(x, mask, w, config.num_attention_heads, config.layer_norm_eps)
    pooled = np.tanh(x[:, 0] @ weights["pooler/kernel"] + weights["pooler/bias"])
    return x, pooled
