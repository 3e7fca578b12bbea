"""VGG of constant width, as in the course framework: VGG_08 (blocks_per_stage=0) to VGG_38 (=5).

    entry: conv → BN → leaky ReLU
    stage × num_stages: processing block × blocks_per_stage, then a reduction block (2×2 avg pool)
    global average pool → linear

Weights keep PyTorch's default init, as the course did: that is what makes plain VGG_38 vanish.
With deep supervision, a training-mode forward also returns one auxiliary head's logits per stage
but the last (`AuxOutput`); eval mode always returns the main logits.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import torch
from torch import nn

from trainlab.config.vgg import VGGOptions
from trainlab.errors import ConfigError
from trainlab.models.registry import MODELS
from trainlab.models.vgg_blocks import BLOCKS


class AuxOutput(NamedTuple):
    """Main logits plus auxiliary logits; the task adds `weight` × the auxiliary losses."""

    logits: torch.Tensor
    aux: tuple[torch.Tensor, ...]
    weight: float


class AuxHead(nn.Module):
    """Global average pool → linear classifier."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.mean(dim=(2, 3)))


class VGG(nn.Module):
    """Children registered in forward order: entry, stage1, aux1, stage2, …, classifier."""

    def __init__(self, opts: VGGOptions, in_channels: int, num_classes: int) -> None:
        super().__init__()
        kind = BLOCKS.get(opts.block_type)
        width = opts.num_filters
        self.entry = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            bn=nn.BatchNorm2d(width),
            act=nn.LeakyReLU(opts.leaky_slope, inplace=True),
        ))
        self.stage_names: list[str] = []
        self.aux_names: list[str | None] = []
        c = width
        for s in range(1, opts.num_stages + 1):
            blocks: OrderedDict[str, nn.Module] = OrderedDict()
            for b in range(1, opts.blocks_per_stage + 1):
                blocks[f"block{b}"], c = kind.processing(c, opts)
            blocks["reduce"], c = kind.reduction(c, opts)
            self.add_module(f"stage{s}", nn.Sequential(blocks))
            self.stage_names.append(f"stage{s}")
            aux = opts.deep_supervision and s < opts.num_stages
            if aux:
                self.add_module(f"aux{s}", AuxHead(c, num_classes))
            self.aux_names.append(f"aux{s}" if aux else None)
        self.classifier = AuxHead(c, num_classes)
        self.aux_weight = opts.aux_weight

    def forward(self, x: torch.Tensor) -> torch.Tensor | AuxOutput:
        x = self.entry(x)
        aux: list[torch.Tensor] = []
        for stage, head in zip(self.stage_names, self.aux_names, strict=True):
            x = getattr(self, stage)(x)
            if head is not None and self.training:
                aux.append(getattr(self, head)(x))
        logits = self.classifier(x)
        return AuxOutput(logits, tuple(aux), self.aux_weight) if aux else logits

    def diagnosis_blocks(self) -> list[tuple[str, nn.Module]]:
        """The units whose outputs the activation statistics describe: entry, then every block."""
        blocks = [("entry", self.entry)]
        for stage in self.stage_names:
            blocks += [(f"{stage}.{name}", block) for name, block in getattr(self, stage).named_children()]
        return blocks


@MODELS.register("vgg")
def vgg(opts: VGGOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(input_shape) != 3:
        raise ConfigError(f"vgg needs image input (C, H, W), got shape {input_shape}", "use model.name=mlp")
    c, h, w = input_shape
    if min(h, w) < 2**opts.num_stages:
        raise ConfigError(f"vgg: {opts.num_stages} stages halve a {h}x{w} input to nothing",
                          f"use model.num_stages={max(1, min(h, w).bit_length() - 1)} or fewer")
    return VGG(opts, c, num_classes)
