"""ResNets: CIFAR ResNet-20/32/44/56/110 (He et al. 2016, option A widths 16/32/64 with projection shortcuts) and
ResNet-18/34/50 (64..512 channels; `stem=cifar`: a 3x3 conv for small images, `stem=imagenet`: torchvision's 7x7
stride-2 conv and max pool, whose state dicts `models/pretrained.py` maps onto this one)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.models import ResNetOptions
from trainlab.errors import ConfigError
from trainlab.models.backbone import Staged
from trainlab.models.registry import MODELS


class BasicBlock(nn.Module):
    """Two 3×3 convs with batch norm and an identity (or 1×1 projection) shortcut."""

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = _shortcut(c_in, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (carrying the stride, as torchvision's v1.5), 1×1 expand ×4; batch norm after each."""

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = _shortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + self.shortcut(x))


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


def _stem(c_in: int, width: int, kind: str) -> nn.Sequential:
    if kind == "imagenet":
        return nn.Sequential(nn.Conv2d(c_in, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                             nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
    return nn.Sequential(nn.Conv2d(c_in, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))


class ResNet(Staged):
    """stem → blocks (one flat `stages` sequence; `blocks[i]` of them per width) → global average pool → head."""

    def __init__(self, c_in: int, widths: list[int], blocks: list[int], num_classes: int,
                 block: type[BasicBlock] | type[Bottleneck] = BasicBlock, stem: str = "cifar") -> None:
        super().__init__()
        self.blocks = list(blocks)
        self.stem = _stem(c_in, widths[0], stem)
        layers: list[nn.Module] = []
        c = widths[0]
        for i, (width, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                layers.append(block(c, width, 2 if i > 0 and j == 0 else 1))
                c = width * block.expansion
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))

    def backbone_stages(self) -> list[nn.Module]:
        """The stem, then the blocks of each width (torchvision's layer1..layer4)."""
        groups: list[nn.Module] = [self.stem]
        start = 0
        for n in self.blocks:
            groups.append(nn.ModuleList(self.stages[start:start + n]))
            start += n
        return groups


#: depth → (blocks per width, block) of the ResNets with 64..512 channels
WIDE = {18: ([2, 2, 2, 2], BasicBlock), 34: ([3, 4, 6, 3], BasicBlock), 50: ([3, 4, 6, 3], Bottleneck)}


@MODELS.register("resnet")
def resnet(opts: ResNetOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(input_shape) != 3:
        raise ConfigError(f"resnet needs image input (C, H, W), got shape {input_shape}", "use model.name=mlp")
    if opts.depth in WIDE:
        blocks, block = WIDE[opts.depth]
        return ResNet(input_shape[0], [64, 128, 256, 512], blocks, num_classes, block, opts.stem)
    n = (opts.depth - 2) // 6
    w = opts.width
    return ResNet(input_shape[0], [w, 2 * w, 4 * w], [n, n, n], num_classes)
