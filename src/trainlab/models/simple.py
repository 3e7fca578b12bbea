"""Softmax regression and the multilayer perceptron (flattened inputs)."""

from torch import nn

from trainlab.config.models import LinearOptions, MLPOptions
from trainlab.models.blocks import flat_size, mlp_layers
from trainlab.models.registry import MODELS


@MODELS.register("linear")
def linear(opts: LinearOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(flat_size(input_shape), num_classes))


@MODELS.register("mlp")
def mlp(opts: MLPOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    head = mlp_layers(flat_size(input_shape), opts.hidden, num_classes, opts.activation, opts.dropout,
                      opts.batch_norm)
    return nn.Sequential(nn.Flatten(), *head)
