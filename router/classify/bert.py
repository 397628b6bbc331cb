"""A BERT encoder's forward pass in numpy (fp32): a text's token ids in, its mean-pooled unit-length vector out."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

LAYER_NORM_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class Layer:
    """One transformer layer's weights, laid out [in, out] for x @ w; query, key and value side by side."""

    qkv: np.ndarray
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, tensors: Mapping[str, np.ndarray], prefix: str) -> "Layer":
        def weight(name: str) -> np.ndarray:
            return np.ascontiguousarray(tensors[f"{prefix}.{name}.weight"].T, dtype=np.float32)

        def bias(name: str) -> np.ndarray:
            return np.asarray(tensors[f"{prefix}.{name}.bias"], dtype=np.float32)

        parts = ("attention.self.query", "attention.self.key", "attention.self.value")
        return cls(
            np.ascontiguousarray(np.hstack([weight(p) for p in parts])), np.hstack([bias(p) for p in parts]),
            weight("attention.output.dense"), bias("attention.output.dense"),
            _norm(tensors, f"{prefix}.attention.output.LayerNorm"),
            weight("intermediate.dense"), bias("intermediate.dense"),
            weight("output.dense"), bias("output.dense"), _norm(tensors, f"{prefix}.output.LayerNorm"),
        )


class Bert:
    """The encoder of a BertModel checkpoint (names as transformers saves them), with mean pooling."""

    def __init__(self, tensors: Mapping[str, np.ndarray], heads: int) -> None:
        self.words = np.asarray(tensors["embeddings.word_embeddings.weight"], dtype=np.float32)
        self.positions = np.asarray(tensors["embeddings.position_embeddings.weight"], dtype=np.float32)
        self.token_type = np.asarray(tensors["embeddings.token_type_embeddings.weight"][0], dtype=np.float32)
        self.norm = _norm(tensors, "embeddings.LayerNorm")
        count = len({name.split(".")[2] for name in tensors if name.startswith("encoder.layer.")})
        self.layers = [Layer.of(tensors, f"encoder.layer.{i}") for i in range(count)]
        self.heads = heads
        self.dimension = self.words.shape[1]

    def encode(self, ids: Sequence[int]) -> np.ndarray:
        """The unit-length mean of the last layer over one text's tokens (see Encoder.embed: one text a pass)."""
        tokens = np.asarray([ids], dtype=np.int64)  # a batch of one
        x = self.words[tokens] + self.positions[: tokens.shape[1]] + self.token_type
        x = _layer_norm(x, self.norm)
        for layer in self.layers:
            x = self._layer(x, layer)
        pooled = x.sum(axis=1) / np.float32(max(tokens.shape[1], 1))
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))[0]

    def _layer(self, x: np.ndarray, layer: Layer) -> np.ndarray:
        batch, length, width = x.shape
        size = width // self.heads
        qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self.heads, size)
        query, key, value = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (batch, heads, length, size)
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = _layer_norm(x + context @ layer.attention_out + layer.attention_out_bias, layer.attention_norm)
        hidden = x @ layer.intermediate + layer.intermediate_bias
        hidden = hidden * np.float32(0.5) * (np.float32(1) + erf(hidden / np.float32(np.sqrt(2))).astype(np.float32))
        return _layer_norm(x + hidden @ layer.output + layer.output_bias, layer.output_norm)


def _norm(tensors: Mapping[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(tensors[f"{prefix}.bias"], dtype=np.float32),
            np.asarray(tensors[f"{prefix}.weight"], dtype=np.float32))


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    bias, weight = norm
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(LAYER_NORM_EPS)) * weight + bias
