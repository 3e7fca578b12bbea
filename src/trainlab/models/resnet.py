"""ResNets for small images: CIFAR ResNet-20/32/44/56/110 (He et al. 2016, option A widths
16/32/64 with projection shortcuts) and ResNet-18 (64..512, 3×3 stem)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.models import ResNetOptions
from trainlab.errors import ConfigError
from trainlab.models.registry import MODELS


class BasicBlock(nn.Module):
    """Two 3×3 convs with batch norm and an identity (or 1×1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, c_in: int, widths: list[int], blocks: list[int], num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c_in, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        stages: list[nn.Module] = []
        c = widths[0]
        for i, (width, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                stages.append(BasicBlock(c, width, 2 if i > 0 and j == 0 else 1))
                c = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))


@MODELS.register("resnet")
def resnet(opts: ResNetOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(input_shape) != 3:
        raise ConfigError(f"resnet needs image input (C, H, W), got shape {input_shape}", "use model.name=mlp")
    if opts.depth == 18:
        return ResNet(input_shape[0], [64, 128, 256, 512], [2, 2, 2, 2], num_classes)
    n = (opts.depth - 2) // 6
    w = opts.width
    return ResNet(input_shape[0], [w, 2 * w, 4 * w], [n, n, n], num_classes)
