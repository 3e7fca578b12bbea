"""Numeric gradients by centred differences, to check analytic backward passes.

Each function perturbs ``x`` in place (one entry at a time) and restores it, so ``f`` may
close over ``x`` or take it as its argument. Use float64: the centred difference has
error O(h^2) plus rounding O(eps / h).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_grad_scalar(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x``."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        grad[ix] = _centred(f, x, ix, h)
    return grad


def numeric_grad(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * df)`` for an array-valued ``f``: the vector-Jacobian
    product a backward pass computes for upstream gradient ``df``."""
    return numeric_grad_scalar(lambda z: float(np.sum(f(z) * df)), x, h)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise ``|a - b| / max(1e-8, |a| + |b|)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int = 0,
) -> np.ndarray:
    """Relative errors of ``analytic_grad`` at ``num_checks`` random entries of ``x``,
    for a scalar ``f`` -- for tensors too big to difference entry by entry."""
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks)
    for k in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        errors[k] = rel_error(_centred(f, x, ix, h), analytic_grad[ix])
    return errors


def _centred(f: Callable[[np.ndarray], float], x: np.ndarray, ix: tuple[int, ...], h: float) -> float:
    """``(f(x + h e_ix) - f(x - h e_ix)) / 2h``, leaving ``x`` as it was."""
    old = x[ix]
    x[ix] = old + h
    pos = f(x)
    x[ix] = old - h
    neg = f(x)
    x[ix] = old
    return (pos - neg) / (2 * h)
