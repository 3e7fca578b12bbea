"""``[conv - relu - 2x2 max pool] x N - [affine - relu] x (M - 1) - affine - softmax``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from trainlab.scratch.layers import affine_backward, affine_forward
from trainlab.scratch.losses import softmax_loss
from trainlab.scratch.models.base import LossOut, Model
from trainlab.scratch.sandwich import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)


class ConvNet(Model):
    """Convolutions are stride 1 with "same" padding, so each pool halves H and W.

    Parameters are numbered in order: ``W1..WN`` are the filters ``(F, C, k, k)``, the
    affine layers follow as ``W{N+1}..W{N+M}``.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        num_filters: Sequence[int],
        hidden_dims: Sequence[int],
        num_classes: int,
        filter_size: int = 3,
        reg: float = 0.0,
        weight_scale: float | None = None,
        dtype: DTypeLike = np.float64,
        seed: int = 0,
    ) -> None:
        if filter_size % 2 == 0:
            raise ValueError(f"filter_size must be odd for same padding, got {filter_size}")
        C, H, W = input_shape
        if H >> len(num_filters) == 0 or W >> len(num_filters) == 0:
            raise ValueError(f"a {H}x{W} input is too small for {len(num_filters)} 2x2 poolings")
        super().__init__(reg, dtype, seed)
        self.num_conv = len(num_filters)
        self.num_layers = self.num_conv + len(hidden_dims) + 1
        self.pad = (filter_size - 1) // 2
        for i, F in enumerate(num_filters, start=1):
            self.add_weight(f"W{i}", C * filter_size**2, (F, C, filter_size, filter_size), weight_scale)
            self.add_zeros(f"b{i}", F)
            C, H, W = F, H // 2, W // 2
        dims = [C * H * W, *hidden_dims, num_classes]
        for i, (d_in, d_out) in enumerate(itertools.pairwise(dims), start=self.num_conv + 1):
            self.add_weight(f"W{i}", d_in, (d_in, d_out), weight_scale)
            self.add_zeros(f"b{i}", d_out)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> LossOut:
        p = self.params
        h = X.astype(self.dtype, copy=False)
        caches = []
        for i in range(1, self.num_layers):
            if i <= self.num_conv:
                h, cache = conv_relu_pool_forward(h, p[f"W{i}"], p[f"b{i}"], pad=self.pad)
            else:
                h, cache = affine_relu_forward(h, p[f"W{i}"], p[f"b{i}"])
            caches.append(cache)
        L = self.num_layers
        scores, last_cache = affine_forward(h, p[f"W{L}"], p[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads: dict[str, np.ndarray] = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            backward = conv_relu_pool_backward if i <= self.num_conv else affine_relu_backward
            dh, grads[f"W{i}"], grads[f"b{i}"] = backward(dh, caches[i - 1])
        return loss + self.l2_penalty(grads), grads
