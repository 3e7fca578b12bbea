"""The model registry: `model.name` → builder(options, input_shape, num_classes) -> nn.Module."""

from collections.abc import Callable
from typing import Any

from torch import nn

from trainlab.registry import Registry

ModelBuilder = Callable[[Any, tuple[int, ...], int], nn.Module]
MODELS: Registry[ModelBuilder] = Registry("model")
