"""What every scratch model shares: parameters, buffers, L2 penalty, initialisation."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import DTypeLike

LossOut = np.ndarray | tuple[float, dict[str, np.ndarray]]


class Model(ABC):
    """A classifier over ``params`` (trained arrays) and ``buffers`` (running state such
    as batchnorm statistics, saved in checkpoints but not trained).

    ``loss(X)`` returns class scores ``(N, C)``; ``loss(X, y)`` runs in training mode
    and returns ``(loss, grads)`` with one gradient per parameter.
    """

    def __init__(self, reg: float, dtype: DTypeLike, seed: int) -> None:
        self.reg = reg
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    @abstractmethod
    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> LossOut: ...

    def num_params(self) -> int:
        return sum(p.size for p in self.params.values())

    def add_weight(self, name: str, fan_in: int, shape: tuple[int, ...], scale: float | None) -> None:
        """A Gaussian weight with std ``scale``, or He's ``sqrt(2 / fan_in)`` when None."""
        std = np.sqrt(2.0 / fan_in) if scale is None else scale
        self.params[name] = (std * self.rng.standard_normal(shape)).astype(self.dtype)

    def add_zeros(self, name: str, size: int, value: float = 0.0) -> None:
        self.params[name] = np.full(size, value, dtype=self.dtype)

    def l2_penalty(self, grads: dict[str, np.ndarray]) -> float:
        """Add ``0.5 * reg * ||W||^2`` over weight matrices (names starting with W) to
        the loss and ``reg * W`` to their gradients; returns the penalty."""
        penalty = 0.0
        for name, w in self.params.items():
            if name.startswith("W"):
                penalty += 0.5 * self.reg * float(np.sum(w * w))
                grads[name] += self.reg * w
        return penalty
