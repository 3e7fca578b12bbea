"""Model stage: registry of model families built from `model.*` options."""

from torch import nn

import trainlab.models.seq  # noqa: F401  (register the sequence models)
from trainlab.models import convnet, resnet, simple, vgg  # noqa: F401  (register the families)
from trainlab.models.registry import MODELS
from trainlab.models.vgg import AuxOutput


def build_model(opts, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The model named by `opts.name`, sized for the dataset."""
    return MODELS.get(opts.name)(opts, tuple(input_shape), num_classes)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["MODELS", "AuxOutput", "build_model", "count_params"]
