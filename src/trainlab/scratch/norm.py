"""Batch normalisation (1-D and spatial) and layer normalisation.

``bn_param`` is a dict: ``mode`` ("train" or "eval"), ``eps`` (1e-5), ``momentum`` (0.9,
the weight kept on the old running value) and the arrays ``running_mean`` and
``running_var``, created on first use and then updated in place. As in PyTorch, the
running variance uses the unbiased batch variance, and training normalises with the
biased one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trainlab.scratch.layers import Cache


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """``x (N, D)``, ``gamma`` and ``beta (D,)``."""
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.ones(D, dtype=x.dtype))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        n = x.shape[0]
        running_mean[...] = momentum * running_mean + (1 - momentum) * mean
        running_var[...] = momentum * running_var + (1 - momentum) * var * n / max(n - 1, 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, bn_param["mode"])


def batchnorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, gamma, inv_std, mode = cache
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dxhat = dout * gamma
    if mode == "train":
        # The batch mean and variance depend on x too: the compact closed form.
        dxhat = dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)
    return dxhat * inv_std, dgamma, dbeta


def _to_rows(x: np.ndarray) -> np.ndarray:
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    N, C, H, W = shape
    return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """``x (N, C, H, W)``: per-channel statistics over N, H and W."""
    out, cache = batchnorm_forward(_to_rows(x), gamma, beta, bn_param)
    return _from_rows(out, x.shape), (cache, x.shape)


def spatial_batchnorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bn_cache, shape = cache
    dx, dgamma, dbeta = batchnorm_backward(_to_rows(dout), bn_cache)
    return _from_rows(dx, shape), dgamma, dbeta


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """``x (N, D)``: each row normalised over its D features; ``ln_param`` holds ``eps``."""
    eps = ln_param.get("eps", 1e-5)
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layernorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, gamma, inv_std = cache
    dxhat = dout * gamma
    dx = dxhat - dxhat.mean(axis=1, keepdims=True)
    dx -= xhat * (dxhat * xhat).mean(axis=1, keepdims=True)
    return dx * inv_std, (dout * xhat).sum(axis=0), dout.sum(axis=0)
