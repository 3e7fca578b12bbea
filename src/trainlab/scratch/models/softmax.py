"""A linear softmax classifier: ``scores = X W1 + b1``."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from trainlab.scratch.layers import affine_backward, affine_forward
from trainlab.scratch.losses import softmax_loss
from trainlab.scratch.models.base import LossOut, Model


class SoftmaxClassifier(Model):
    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        reg: float = 0.0,
        weight_scale: float | None = 1e-3,
        dtype: DTypeLike = np.float64,
        seed: int = 0,
    ) -> None:
        super().__init__(reg, dtype, seed)
        self.add_weight("W1", input_dim, (input_dim, num_classes), weight_scale)
        self.add_zeros("b1", num_classes)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> LossOut:
        scores, cache = affine_forward(X.astype(self.dtype, copy=False), self.params["W1"], self.params["b1"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        _, dW, db = affine_backward(dscores, cache)
        grads = {"W1": dW, "b1": db}
        return loss + self.l2_penalty(grads), grads
