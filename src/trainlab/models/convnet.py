"""Conv nets: the classic [conv-relu-pool]xN - [affine]xM, and the PyramidCNN. Each is an encoder (registered in
`ENCODERS`, shared with the autoencoder) and a head."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.models import ConvNetOptions, PyramidCNNOptions
from trainlab.errors import ConfigError
from trainlab.models.backbone import ENCODERS, EncoderClassifier, stage_shapes
from trainlab.models.blocks import conv_bn_act, mlp_layers
from trainlab.models.registry import MODELS


def _need_image(name: str, input_shape: tuple[int, ...]) -> None:
    if len(input_shape) != 3:
        raise ConfigError(f"model {name} needs image input (C, H, W), got shape {input_shape}",
                          "use model.name=mlp for flat data")


@ENCODERS.register("convnet")
def convnet_encoder(opts: ConvNetOptions, input_shape: tuple[int, ...]) -> nn.Sequential:
    """One stage per width: conv-(bn)-act then 2x2 max pool."""
    _need_image("convnet", input_shape)
    c, h, w = input_shape
    stages: list[nn.Module] = []
    for width in opts.filters:
        if min(h, w) < 2:
            raise ConfigError(f"convnet: {len(opts.filters)} pooling blocks shrink a "
                              f"{input_shape[1]}x{input_shape[2]} input to nothing",
                              "use fewer model.filters")
        block = conv_bn_act(c, width, opts.kernel_size, 1, opts.batch_norm, opts.activation)
        if opts.pool_first:  # conv → pool → norm → act (airbench's order): norm and act run on a quarter of the pixels
            stages.append(nn.Sequential(block[0], nn.MaxPool2d(2), *block[1:]))
        else:
            stages.append(nn.Sequential(block, nn.MaxPool2d(2)))
        c, h, w = width, h // 2, w // 2
    return nn.Sequential(*stages)


@MODELS.register("convnet")
def convnet(opts: ConvNetOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    encoder = convnet_encoder(opts, input_shape)
    c, h, w = stage_shapes(encoder, input_shape)[-1]
    head = mlp_layers(c * h * w, opts.hidden, num_classes, opts.activation, opts.dropout)
    return EncoderClassifier(encoder, nn.Sequential(nn.Flatten(), *head))


class GlobalMaxAvgPool(nn.Module):
    """Concatenate global max and global average pooling: (N, C, H, W) -> (N, 2C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.amax(dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)


@ENCODERS.register("pyramid_cnn")
def pyramid_encoder(opts: PyramidCNNOptions, input_shape: tuple[int, ...]) -> nn.Sequential:
    """One stage per block: conv_layers convs at twice the previous width, downsampling between blocks."""
    _need_image("pyramid_cnn", input_shape)
    c = input_shape[0]
    stages: list[nn.Module] = []
    for block in range(opts.conv_blocks):
        width = opts.initial_channels * 2**block
        last_block = block == opts.conv_blocks - 1
        layers: list[nn.Module] = []
        for i in range(opts.conv_layers):
            stride = 2 if opts.downsample == "stride" and i == opts.conv_layers - 1 and not last_block else 1
            layers.append(conv_bn_act(c, width, opts.kernel_size, stride, opts.batch_norm, opts.activation))
            c = width
        if opts.downsample == "pool" and not last_block:
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        stages.append(nn.Sequential(*layers))
    return nn.Sequential(*stages)


@MODELS.register("pyramid_cnn")
def pyramid_cnn(opts: PyramidCNNOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    encoder = pyramid_encoder(opts, input_shape)
    c = opts.initial_channels * 2 ** (opts.conv_blocks - 1)
    head = mlp_layers(2 * c, opts.fc_layers, num_classes, opts.activation, opts.dropout)
    return EncoderClassifier(encoder, nn.Sequential(GlobalMaxAvgPool(), *head))
