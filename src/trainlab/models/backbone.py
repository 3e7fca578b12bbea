"""Backbone + head: the shape of every model whose weights transfer.

A transferable model names its classifier `head` (the one part a transfer replaces) and lists its backbone
as `backbone_stages()`, in order from the input (what `transfer.strategy=partial` unfreezes from the end).
The conv nets are an encoder (a `nn.Sequential` of stages, registered in `ENCODERS`) and a head; the
autoencoder is the same encoder and a mirrored decoder, so the encoder's state-dict keys are the same in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from trainlab.registry import Registry

#: `model.name` → builder(options, input_shape) -> the encoder: a `nn.Sequential` of stages
EncoderBuilder = Callable[[Any, tuple[int, ...]], nn.Sequential]
ENCODERS: Registry[EncoderBuilder] = Registry("encoder")


class Staged(nn.Module):
    """A backbone of stages and a `head`."""

    head: nn.Module

    def backbone_stages(self) -> list[nn.Module]:
        raise NotImplementedError


class EncoderClassifier(Staged):
    """`head(encoder(x))`: state-dict keys `encoder.*` and `head.*`."""

    def __init__(self, encoder: nn.Sequential, head: nn.Module) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))

    def backbone_stages(self) -> list[nn.Module]:
        return list(self.encoder)


@torch.no_grad()
def stage_shapes(encoder: nn.Sequential, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """(C, H, W) of the input and after each stage (one zero image through the encoder in eval mode: no
    running statistic moves, no random number is drawn)."""
    was_training = encoder.training
    encoder.eval()
    x, shapes = torch.zeros(1, *input_shape), [tuple(input_shape)]
    for stage in encoder:
        x = stage(x)
        shapes.append(tuple(x.shape[1:]))
    encoder.train(was_training)
    return shapes
