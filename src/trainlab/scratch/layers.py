"""Elementwise and dense layers.

Every layer follows one contract: ``*_forward(x, params...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``, where grads is ``dx`` for a parameter-free layer
and ``(dx, dparam, ...)`` otherwise, in the order the forward took them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Cache = Any


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``x (N, d1, ..., dk)`` flattened to ``(N, D)``, then ``x @ w + b`` with ``w (D, M)``."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    return dout * (cache > 0)


def leaky_relu_forward(x: np.ndarray, slope: float = 0.01) -> tuple[np.ndarray, Cache]:
    return np.where(x > 0, x, slope * x), (x, slope)


def leaky_relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    x, slope = cache
    return np.where(x > 0, dout, slope * dout)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    return dout * cache * (1 - cache)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    return dout * (1 - cache**2)


def dropout_forward(x: np.ndarray, p: float, train: bool, rng: np.random.Generator) -> tuple[np.ndarray, Cache]:
    """Inverted dropout: zero each unit with probability ``p`` and scale the rest by
    ``1 / (1 - p)`` in training, so evaluation is the identity."""
    if not train or p == 0:
        return x, None
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1 - p)
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    return dout if cache is None else dout * cache


def flatten_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    return x.reshape(x.shape[0], -1), x.shape


def flatten_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    return dout.reshape(cache)
