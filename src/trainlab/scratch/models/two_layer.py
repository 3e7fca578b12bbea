"""affine - relu - affine - softmax."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from trainlab.scratch.layers import affine_backward, affine_forward
from trainlab.scratch.losses import softmax_loss
from trainlab.scratch.models.base import LossOut, Model
from trainlab.scratch.sandwich import affine_relu_backward, affine_relu_forward


class TwoLayerNet(Model):
    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        num_classes: int,
        reg: float = 0.0,
        weight_scale: float | None = None,
        dtype: DTypeLike = np.float64,
        seed: int = 0,
    ) -> None:
        super().__init__(reg, dtype, seed)
        self.add_weight("W1", input_dim, (input_dim, hidden_dim), weight_scale)
        self.add_zeros("b1", hidden_dim)
        self.add_weight("W2", hidden_dim, (hidden_dim, num_classes), weight_scale)
        self.add_zeros("b2", num_classes)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> LossOut:
        p = self.params
        h, cache1 = affine_relu_forward(X.astype(self.dtype, copy=False), p["W1"], p["b1"])
        scores, cache2 = affine_forward(h, p["W2"], p["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        dh, dW2, db2 = affine_backward(dscores, cache2)
        _, dW1, db1 = affine_relu_backward(dh, cache1)
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        return loss + self.l2_penalty(grads), grads
