"""``{affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax`` of any depth."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from trainlab.scratch.layers import affine_backward, affine_forward, dropout_backward, dropout_forward
from trainlab.scratch.losses import softmax_loss
from trainlab.scratch.models.base import LossOut, Model
from trainlab.scratch.sandwich import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_ln_relu_backward,
    affine_ln_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)

# normalization name -> (forward, backward) of the hidden-layer sandwich
NORM_BLOCKS: dict[str, tuple[Any, Any]] = {
    "batchnorm": (affine_bn_relu_forward, affine_bn_relu_backward),
    "layernorm": (affine_ln_relu_forward, affine_ln_relu_backward),
}


class FullyConnectedNet(Model):
    """Hidden layer ``i`` (from 1) has ``W{i}``, ``b{i}`` and, when normalised,
    ``gamma{i}``, ``beta{i}``; batchnorm keeps ``running_mean{i}``/``running_var{i}``
    in ``buffers``. ``dropout`` is the probability of dropping a hidden unit."""

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int,
        num_classes: int,
        normalization: str | None = None,
        dropout: float = 0.0,
        reg: float = 0.0,
        weight_scale: float | None = None,
        dtype: DTypeLike = np.float64,
        seed: int = 0,
    ) -> None:
        super().__init__(reg, dtype, seed)
        self.normalization = normalization
        self.dropout = dropout
        self.num_layers = len(hidden_dims) + 1
        dims = [input_dim, *hidden_dims, num_classes]
        self.norm_params: list[dict[str, Any]] = []
        for i, (d_in, d_out) in enumerate(itertools.pairwise(dims), start=1):
            self.add_weight(f"W{i}", d_in, (d_in, d_out), weight_scale)
            self.add_zeros(f"b{i}", d_out)
            if normalization and i < self.num_layers:
                self.add_zeros(f"gamma{i}", d_out, 1.0)
                self.add_zeros(f"beta{i}", d_out)
                self.norm_params.append(self._norm_param(i, d_out))

    def _norm_param(self, i: int, size: int) -> dict[str, Any]:
        if self.normalization != "batchnorm":
            return {}
        mean = self.buffers[f"running_mean{i}"] = np.zeros(size, dtype=self.dtype)
        var = self.buffers[f"running_var{i}"] = np.ones(size, dtype=self.dtype)
        return {"running_mean": mean, "running_var": var}

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> LossOut:
        train = y is not None
        p = self.params
        h = X.astype(self.dtype, copy=False)
        caches = []
        for i in range(1, self.num_layers):
            if self.normalization:
                forward, _ = NORM_BLOCKS[self.normalization]
                param = {**self.norm_params[i - 1], "mode": "train" if train else "eval"}
                h, cache = forward(h, p[f"W{i}"], p[f"b{i}"], p[f"gamma{i}"], p[f"beta{i}"], param)
            else:
                h, cache = affine_relu_forward(h, p[f"W{i}"], p[f"b{i}"])
            h, drop_cache = dropout_forward(h, self.dropout, train, self.rng)
            caches.append((cache, drop_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(h, p[f"W{L}"], p[f"b{L}"])
        if not train:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads: dict[str, np.ndarray] = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            cache, drop_cache = caches[i - 1]
            dh = dropout_backward(dh, drop_cache)
            if self.normalization:
                _, backward = NORM_BLOCKS[self.normalization]
                dh, grads[f"W{i}"], grads[f"b{i}"], grads[f"gamma{i}"], grads[f"beta{i}"] = backward(dh, cache)
            else:
                dh, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dh, cache)
        return loss + self.l2_penalty(grads), grads
