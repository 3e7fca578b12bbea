"""2-D convolution (cross-correlation, as in every framework), NCHW layout.

``x (N, C, H, W)``, ``w (F, C, HH, WW)``, ``b (F,)`` give ``out (N, F, Ho, Wo)`` with
``Ho = (H + 2*pad - HH) // stride + 1``. The naive version is four loops to read; the
fast one is im2col on a strided view and one matrix product, with identical results.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trainlab.scratch.layers import Cache


def out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def _pad(x: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, Cache]:
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    xp = _pad(x, pad)
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, stride, pad)


def conv_backward_naive(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w, stride, pad = cache
    N, F, Ho, Wo = dout.shape
    _, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    H, W = x.shape[2:]
    return dxp[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


def windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """A zero-copy view ``(N, C, Ho, Wo, kh, kw)`` of every ``kh x kw`` window of ``x``."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def scatter_windows(dwin: np.ndarray, shape: tuple[int, ...], stride: int) -> np.ndarray:
    """Adjoint of :func:`windows`: sum per-window gradients laid out ``(kh, kw, N, C, Ho, Wo)``
    back onto an array of ``shape``. Loops over the kernel offsets only; each step adds
    one strided slab."""
    kh, kw, _, _, Ho, Wo = dwin.shape
    dx = np.zeros(shape, dtype=dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride] += dwin[i, j]
    return dx


def conv_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, Cache]:
    N = x.shape[0]
    F, C, HH, WW = w.shape
    xp = _pad(x, pad)
    win = windows(xp, HH, WW, stride)  # (N, C, Ho, Wo, HH, WW), a view
    Ho, Wo = win.shape[2:4]
    # im2col: one column per output pixel, rows ordered (c, i, j) like w.reshape(F, -1)
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * Ho * Wo)
    out = (w.reshape(F, -1) @ cols).reshape(F, N, Ho, Wo) + b[:, None, None, None]
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3)), (xp.shape, cols, w, stride, pad)


def conv_backward_fast(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xp_shape, cols, w, stride, pad = cache
    N, F, Ho, Wo = dout.shape
    _, C, HH, WW = w.shape
    d2 = dout.transpose(1, 0, 2, 3).reshape(F, -1)  # (F, N*Ho*Wo)
    dw = (d2 @ cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d2).reshape(C, HH, WW, N, Ho, Wo)
    dxp = scatter_windows(dcols.transpose(1, 2, 3, 0, 4, 5), xp_shape, stride)
    Hp, Wp = xp_shape[2:]
    return dxp[:, :, pad : Hp - pad, pad : Wp - pad], dw, dout.sum(axis=(0, 2, 3))
