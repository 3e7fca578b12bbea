"""The VGG family's blocks, looked up by `model.block_type` in BLOCKS (never an if/else chain).

Every block is built from one shared unit, `conv_pair`: conv → (bn) → leaky ReLU → (2×2 avg pool) →
conv → (bn) → leaky ReLU, 3×3 convs without bias. A block type pairs a processing block (keeps the
spatial size) with a dimensionality-reduction block (halves it). Builders return (module, out channels).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from trainlab.config.vgg import VGGOptions
from trainlab.registry import Registry

BlockBuilder = Callable[[int, VGGOptions], tuple[nn.Module, int]]


@dataclass(frozen=True)
class BlockType:
    processing: BlockBuilder
    reduction: BlockBuilder


def conv_pair(c_in: int, c_out: int, slope: float, norm: bool = False, pool: bool = False,
              first_kernel: int = 3) -> nn.Sequential:
    """conv1 → (bn1) → act1 → (pool) → conv2 → (bn2) → act2."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i, kernel in enumerate((first_kernel, 3), start=1):
        layers[f"conv{i}"] = nn.Conv2d(c_in if i == 1 else c_out, c_out, kernel, padding=kernel // 2, bias=False)
        if norm:
            layers[f"bn{i}"] = nn.BatchNorm2d(c_out)
        layers[f"act{i}"] = nn.LeakyReLU(slope, inplace=True)
        if pool and i == 1:
            layers["pool"] = nn.AvgPool2d(2)
    return nn.Sequential(layers)


class Residual(nn.Module):
    """x + body(x): an identity shortcut around a shape-preserving block."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenseLayer(nn.Module):
    """cat(x, body(x)) along channels: DenseNet-style feature reuse."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], dim=1)


def processing(c_in: int, opts: VGGOptions, norm: bool = False) -> tuple[nn.Module, int]:
    return conv_pair(c_in, opts.num_filters, opts.leaky_slope, norm), opts.num_filters


def reduction(c_in: int, opts: VGGOptions, norm: bool = False, first_kernel: int = 3) -> tuple[nn.Module, int]:
    block = conv_pair(c_in, opts.num_filters, opts.leaky_slope, norm, pool=True, first_kernel=first_kernel)
    return block, opts.num_filters


def residual(c_in: int, opts: VGGOptions, norm: bool = False) -> tuple[nn.Module, int]:
    body, c_out = processing(c_in, opts, norm)
    return Residual(body), c_out


def dense(c_in: int, opts: VGGOptions) -> tuple[nn.Module, int]:
    return DenseLayer(conv_pair(c_in, opts.growth_rate, opts.leaky_slope)), c_in + opts.growth_rate


def empty(c_in: int, opts: VGGOptions) -> tuple[nn.Module, int]:
    return nn.Identity(), c_in


BLOCKS: Registry[BlockType] = Registry("block type")
BLOCKS.register("plain")(BlockType(processing, reduction))
BLOCKS.register("empty")(BlockType(empty, empty))
BLOCKS.register("bn")(BlockType(partial(processing, norm=True), partial(reduction, norm=True)))
BLOCKS.register("residual")(BlockType(residual, reduction))
BLOCKS.register("bn_residual")(BlockType(partial(residual, norm=True), partial(reduction, norm=True)))
# The transition's 1×1 conv squeezes the concatenated channels back to num_filters.
BLOCKS.register("dense")(BlockType(dense, partial(reduction, first_kernel=1)))
