"""The first layer's filters as images: the first conv's kernels, or a first linear layer's rows
reshaped to the input image."""

from __future__ import annotations

import math

import numpy as np
from torch import nn

from trainlab.diagnose.gradflow import weight_layers

MAX_FILTERS = 64


def first_filters(module: nn.Module, input_shape: tuple[int, ...]) -> np.ndarray | None:
    """(N, H, W) grey or (N, H, W, 3) colour filters; None when the first layer has no image form."""
    layers = [w for _, w in weight_layers(module)]
    conv = next((w for w in layers if w.ndim == 4), None)
    if conv is not None:
        weights = conv
    elif layers and layers[0].ndim == 2 and len(input_shape) == 3 and layers[0].shape[1] == math.prod(input_shape):
        weights = layers[0].reshape(-1, *input_shape)
    else:
        return None
    images = weights[:MAX_FILTERS].detach().float().cpu().permute(0, 2, 3, 1).numpy()
    return images if images.shape[-1] == 3 else images.mean(axis=-1)
