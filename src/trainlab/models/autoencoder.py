"""The convolutional autoencoder: a classifier's encoder (same module, same state-dict keys) and a decoder that
mirrors it stage by stage."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.errors import ConfigError
from trainlab.models.backbone import ENCODERS, stage_shapes
from trainlab.models.blocks import conv_bn_act


class Autoencoder(nn.Module):
    """`decoder(encoder(x))`: state-dict keys `encoder.*` (as in the classifier) and `decoder.*`."""

    def __init__(self, encoder: nn.Sequential, decoder: nn.Sequential) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def mirrored_decoder(shapes: list[tuple[int, ...]], kernel: int, batch_norm: bool, activation: str) -> nn.Sequential:
    """Per encoder stage, last first: upsample (nearest) to the stage's input size, then a conv to its input
    channels; the last conv gives the image's channels, with no norm or activation (values or logits)."""
    stages: list[nn.Module] = []
    for i in range(len(shapes) - 1, 0, -1):
        (c_out, h, w), c_in, last = shapes[i - 1], shapes[i][0], i == 1
        conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2) if last else \
            conv_bn_act(c_in, c_out, kernel, 1, batch_norm, activation)
        stages.append(nn.Sequential(nn.Upsample(size=(h, w), mode="nearest"), conv))
    return nn.Sequential(*stages)


def build_autoencoder(opts, input_shape: tuple[int, ...]) -> Autoencoder:
    """The encoder of `opts.name` and its mirror, sized for `input_shape` (C, H, W)."""
    if opts.name not in ENCODERS:
        raise ConfigError(f"model {opts.name} has no conv encoder for task autoencoder",
                          f"use model.name={' or '.join(ENCODERS.names())}")
    encoder = ENCODERS.get(opts.name)(opts, tuple(input_shape))
    decoder = mirrored_decoder(stage_shapes(encoder, tuple(input_shape)), opts.kernel_size, opts.batch_norm,
                               opts.activation)
    return Autoencoder(encoder, decoder)
