"""First-order update rules: ``update(w, dw, config) -> (next_w, config)``.

``config`` is one parameter's own dict: hyperparameters (defaults filled in here) plus
the rule's running state (velocity, moments, step count), so the Solver keeps one per
parameter. Rules are looked up by name in ``UPDATE_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from trainlab.registry import Registry

Config = dict[str, Any]
UpdateRule = Callable[[np.ndarray, np.ndarray, Config], tuple[np.ndarray, Config]]

UPDATE_RULES: Registry[UpdateRule] = Registry("update rule")


@UPDATE_RULES.register("sgd")
def sgd(w: np.ndarray, dw: np.ndarray, config: Config) -> tuple[np.ndarray, Config]:
    """``w -= lr * dw``."""
    config.setdefault("lr", 1e-2)
    return w - config["lr"] * dw, config


@UPDATE_RULES.register("momentum")
def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: Config) -> tuple[np.ndarray, Config]:
    """``v = momentum * v - lr * dw; w += v``."""
    config.setdefault("lr", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["lr"] * dw
    config["velocity"] = v
    return w + v, config


@UPDATE_RULES.register("nesterov")
def nesterov(w: np.ndarray, dw: np.ndarray, config: Config) -> tuple[np.ndarray, Config]:
    """Nesterov momentum in the look-ahead-free form: ``w += -mu*v_prev + (1+mu)*v``."""
    config.setdefault("lr", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["lr"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config


@UPDATE_RULES.register("rmsprop")
def rmsprop(w: np.ndarray, dw: np.ndarray, config: Config) -> tuple[np.ndarray, Config]:
    """Divide the step by a running RMS of the gradient."""
    config.setdefault("lr", 1e-2)
    rho = config.setdefault("decay_rate", 0.99)
    eps = config.setdefault("epsilon", 1e-8)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    config["cache"] = cache
    return w - config["lr"] * dw / (np.sqrt(cache) + eps), config


@UPDATE_RULES.register("adam")
def adam(w: np.ndarray, dw: np.ndarray, config: Config) -> tuple[np.ndarray, Config]:
    """Adam with bias-corrected first and second moments."""
    config.setdefault("lr", 1e-3)
    b1 = config.setdefault("beta1", 0.9)
    b2 = config.setdefault("beta2", 0.999)
    eps = config.setdefault("epsilon", 1e-8)
    t = config["t"] = config.get("t", 0) + 1
    m = config["m"] = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = config["v"] = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["lr"] * m_hat / (np.sqrt(v_hat) + eps), config
