"""Options of each model family, keyed by `model.name` (pure pydantic, no torch)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from trainlab.config.base import Section
from trainlab.config.seq import CharLMOptions, Seq2SeqOptions, TransformerOptions
from trainlab.config.vgg import VGGOptions

Activation = Literal["relu", "tanh", "sigmoid", "leaky_relu", "gelu"]



class LinearOptions(Section):
    """Softmax regression: one affine layer on the flattened input."""

    name: Literal["linear"] = "linear"


class MLPOptions(Section):
    """Fully connected network on the flattened input."""

    name: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0)]] = Field(
        default=[256, 128], description="widths of the hidden layers"
    )
    activation: Activation = Field(default="relu", description="non-linearity after each layer")
    dropout: float = Field(default=0.0, ge=0, lt=1, description="dropout after each hidden layer")
    batch_norm: bool = Field(default=False, description="batch norm before each activation")


class ConvNetOptions(Section):
    """[conv-relu-pool]xN - [affine]xM."""

    name: Literal["convnet"] = "convnet"
    filters: list[Annotated[int, Field(gt=0)]] = Field(
        default=[32, 64], description="channels of each conv-relu-pool block"
    )
    kernel_size: int = Field(default=3, gt=0, description="conv kernel size (odd keeps size)")
    hidden: list[Annotated[int, Field(gt=0)]] = Field(
        default=[128], description="widths of the affine layers before the classifier"
    )
    activation: Activation = Field(default="relu", description="non-linearity")
    batch_norm: bool = Field(default=False, description="batch norm after each conv")
    dropout: float = Field(default=0.0, ge=0, lt=1, description="dropout in the affine head")
    pool_first: bool = Field(
        default=False, description="pool right after each conv, before batch norm and activation (a quarter of "
        "their work; 1.5x faster training on the CPU)")


class PyramidCNNOptions(Section):
    """Blocks of convs whose width doubles per block; global max+avg pooling; MLP head."""

    name: Literal["pyramid_cnn"] = "pyramid_cnn"
    conv_blocks: int = Field(default=3, gt=0, description="number of conv blocks")
    conv_layers: int = Field(default=2, gt=0, description="conv layers per block")
    initial_channels: int = Field(default=32, gt=0, description="channels of block 1, doubled per block")
    kernel_size: int = Field(default=3, gt=0, description="conv kernel size")
    batch_norm: bool = Field(default=True, description="batch norm after each conv")
    downsample: Literal["pool", "stride"] = Field(
        default="pool", description="2x2 max pool or stride-2 last conv between blocks"
    )
    fc_layers: list[Annotated[int, Field(gt=0)]] = Field(
        default=[256], description="widths of the head's hidden layers"
    )
    dropout: float = Field(default=0.3, ge=0, lt=1, description="dropout in the head")
    activation: Activation = Field(default="relu", description="non-linearity")


class ResNetOptions(Section):
    """CIFAR ResNet (6n+2 layers: 20/32/44/56/110) or ResNet-18/34/50 (64..512 channels, torchvision's layout)."""

    name: Literal["resnet"] = "resnet"
    depth: Literal[18, 20, 32, 34, 44, 50, 56, 110] = Field(default=20, description="network depth")
    width: int = Field(default=16, gt=0, description="channels of the first stage (CIFAR ResNets)")
    stem: Literal["cifar", "imagenet"] = Field(
        default="cifar", description="3x3 stride-1 conv (small images) or 7x7 stride-2 conv + 3x3 max pool "
        "(ImageNet; ResNet-18/34/50 only)")

    @model_validator(mode="after")
    def _imagenet_depths(self) -> ResNetOptions:
        if self.stem == "imagenet" and self.depth not in (18, 34, 50):
            raise ValueError(f"stem=imagenet is for depth 18, 34 or 50, got depth {self.depth}")
        return self


ModelOptions = Annotated[
    LinearOptions | MLPOptions | ConvNetOptions | PyramidCNNOptions | ResNetOptions | VGGOptions
    | Seq2SeqOptions | TransformerOptions | CharLMOptions,
    Field(discriminator="name"),
]
