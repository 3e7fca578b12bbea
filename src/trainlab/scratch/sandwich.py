"""Common layer stacks, composed from the layers (same forward/backward contract)."""

from __future__ import annotations

from typing import Any

import numpy as np

from trainlab.scratch.conv import conv_backward_fast, conv_forward_fast
from trainlab.scratch.layers import (
    Cache,
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
)
from trainlab.scratch.norm import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from trainlab.scratch.pool import max_pool_backward_fast, max_pool_forward_fast

Grads3 = tuple[np.ndarray, np.ndarray, np.ndarray]
Grads5 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: Cache) -> Grads3:
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def affine_bn_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict[str, Any],
) -> tuple[np.ndarray, Cache]:
    a, fc_cache = affine_forward(x, w, b)
    an, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout: np.ndarray, cache: Cache) -> Grads5:
    fc_cache, bn_cache, relu_cache = cache
    dan, dgamma, dbeta = batchnorm_backward(relu_backward(dout, relu_cache), bn_cache)
    dx, dw, db = affine_backward(dan, fc_cache)
    return dx, dw, db, dgamma, dbeta


def affine_ln_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    ln_param: dict[str, Any],
) -> tuple[np.ndarray, Cache]:
    a, fc_cache = affine_forward(x, w, b)
    an, ln_cache = layernorm_forward(a, gamma, beta, ln_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, ln_cache, relu_cache)


def affine_ln_relu_backward(dout: np.ndarray, cache: Cache) -> Grads5:
    fc_cache, ln_cache, relu_cache = cache
    dan, dgamma, dbeta = layernorm_backward(relu_backward(dout, relu_cache), ln_cache)
    dx, dw, db = affine_backward(dan, fc_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0, pool: int = 2
) -> tuple[np.ndarray, Cache]:
    a, conv_cache = conv_forward_fast(x, w, b, stride, pad)
    r, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(r, pool)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: np.ndarray, cache: Cache) -> Grads3:
    conv_cache, relu_cache, pool_cache = cache
    dr = max_pool_backward_fast(dout, pool_cache)
    return conv_backward_fast(relu_backward(dr, relu_cache), conv_cache)
