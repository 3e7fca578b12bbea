"""Building blocks shared by the model families (never copied per model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from trainlab.registry import Registry

ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation")
ACTIVATIONS.register("relu")(lambda: nn.ReLU(inplace=True))
ACTIVATIONS.register("tanh")(nn.Tanh)
ACTIVATIONS.register("sigmoid")(nn.Sigmoid)
ACTIVATIONS.register("leaky_relu")(lambda: nn.LeakyReLU(0.01, inplace=True))
ACTIVATIONS.register("gelu")(nn.GELU)


def conv_bn_act(
    c_in: int, c_out: int, kernel: int = 3, stride: int = 1, batch_norm: bool = True,
    activation: str | None = "relu",
) -> nn.Sequential:
    """conv (same padding) → optional batch norm → optional activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=not batch_norm)
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out))
    if activation is not None:
        layers.append(ACTIVATIONS.get(activation)())
    return nn.Sequential(*layers)


def mlp_layers(
    d_in: int, hidden: Sequence[int], d_out: int, activation: str = "relu", dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """[affine → (bn) → act → (dropout)] per hidden width, then an affine classifier."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers.append(nn.Linear(d_in, width, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(ACTIVATIONS.get(activation)())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d_in = width
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


def flat_size(input_shape: Sequence[int]) -> int:
    size = 1
    for s in input_shape:
        size *= s
    return size
