"""Max and average pooling over square windows, NCHW layout.

``pool`` is the window side, ``stride`` defaults to it. Max pooling routes the gradient
to the first maximum of each window (row-major), in both versions, so they agree exactly.
"""

from __future__ import annotations

import numpy as np

from trainlab.scratch.conv import out_size, scatter_windows, windows
from trainlab.scratch.layers import Cache


def _geometry(x: np.ndarray, pool: int, stride: int | None) -> tuple[int, int, int]:
    s = stride or pool
    return s, out_size(x.shape[2], pool, s, 0), out_size(x.shape[3], pool, s, 0)


def max_pool_forward_naive(x: np.ndarray, pool: int = 2, stride: int | None = None) -> tuple[np.ndarray, Cache]:
    N, C = x.shape[:2]
    s, Ho, Wo = _geometry(x, pool, stride)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = x[n, c, i * s : i * s + pool, j * s : j * s + pool].max()
    return out, (x, pool, s)


def max_pool_backward_naive(dout: np.ndarray, cache: Cache) -> np.ndarray:
    x, pool, s = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s : i * s + pool, j * s : j * s + pool]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
    return dx


def avg_pool_forward_naive(x: np.ndarray, pool: int = 2, stride: int | None = None) -> tuple[np.ndarray, Cache]:
    N, C = x.shape[:2]
    s, Ho, Wo = _geometry(x, pool, stride)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = x[n, c, i * s : i * s + pool, j * s : j * s + pool].mean()
    return out, (x.shape, pool, s)


def avg_pool_backward_naive(dout: np.ndarray, cache: Cache) -> np.ndarray:
    shape, pool, s = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    dx[n, c, i * s : i * s + pool, j * s : j * s + pool] += dout[n, c, i, j] / pool**2
    return dx


def _offsets(x: np.ndarray, pool: int, s: int) -> list[np.ndarray]:
    """Entry ``(i, j)`` of every window as one ``(N, C, Ho, Wo)`` view each, row-major."""
    win = windows(x, pool, pool, s)
    return [win[..., i, j] for i in range(pool) for j in range(pool)]


def max_pool_forward_fast(x: np.ndarray, pool: int = 2, stride: int | None = None) -> tuple[np.ndarray, Cache]:
    s = stride or pool
    entries = _offsets(x, pool, s)
    out = entries[0].copy()
    for entry in entries[1:]:
        np.maximum(out, entry, out=out)
    return out, (x, out, pool, s)


def max_pool_backward_fast(dout: np.ndarray, cache: Cache) -> np.ndarray:
    x, out, pool, s = cache
    taken = np.zeros(out.shape, dtype=bool)
    dwin = np.empty((pool * pool, *dout.shape), dtype=dout.dtype)
    for k, entry in enumerate(_offsets(x, pool, s)):
        first = (entry == out) & ~taken  # the first maximum of each window, as in the naive loop
        taken |= first
        np.multiply(dout, first, out=dwin[k])
    return scatter_windows(dwin.reshape(pool, pool, *dout.shape), x.shape, s)


def avg_pool_forward_fast(x: np.ndarray, pool: int = 2, stride: int | None = None) -> tuple[np.ndarray, Cache]:
    s = stride or pool
    return sum(_offsets(x, pool, s)) / pool**2, (x.shape, pool, s)


def avg_pool_backward_fast(dout: np.ndarray, cache: Cache) -> np.ndarray:
    shape, pool, s = cache
    dwin = np.broadcast_to(dout / pool**2, (pool, pool, *dout.shape))
    return scatter_windows(dwin, shape, s)
