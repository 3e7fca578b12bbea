"""The scratch engine's run config: YAML plus dotted ``key=value`` overrides, validated
by pydantic with unknown keys rejected. The ``data`` section is the shared one."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveInt,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from trainlab.config.load import apply_overrides, read_config_file
from trainlab.config.schema import AugmentConfig, DataConfig
from trainlab.errors import ConfigError
from trainlab.registry import did_you_mean
from trainlab.scratch.models import ConvNet, FullyConnectedNet, Model, SoftmaxClassifier, TwoLayerNet
from trainlab.scratch.optim import UPDATE_RULES

DType = Literal["float32", "float64"]
Widths = list[PositiveInt]
Shape = tuple[int, ...]
DEFAULT_MODEL = "two_layer"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _dtype() -> Any:
    return Field(default="float32", description="float type of parameters and activations")


def _weight_scale(default: float | None = None) -> Any:
    return Field(default=default, gt=0, description="std of the initial weights (None = He, sqrt(2/fan_in))")


class SoftmaxConfig(Section):
    name: Literal["softmax"] = "softmax"
    weight_scale: float | None = _weight_scale(1e-3)
    dtype: DType = _dtype()

    def build(self, input_shape: Shape, num_classes: int, reg: float, seed: int) -> Model:
        D = int(np.prod(input_shape))
        return SoftmaxClassifier(D, num_classes, reg, self.weight_scale, self.dtype, seed)


class TwoLayerConfig(Section):
    name: Literal["two_layer"] = "two_layer"
    hidden_dim: PositiveInt = Field(default=100, description="width of the hidden layer")
    weight_scale: float | None = _weight_scale()
    dtype: DType = _dtype()

    def build(self, input_shape: Shape, num_classes: int, reg: float, seed: int) -> Model:
        D = int(np.prod(input_shape))
        return TwoLayerNet(D, self.hidden_dim, num_classes, reg, self.weight_scale, self.dtype, seed)


class FCConfig(Section):
    name: Literal["fc"] = "fc"
    hidden: Widths = Field(default=[100, 100], description="widths of the hidden layers")
    normalization: Literal["batchnorm", "layernorm"] | None = Field(
        default=None, description="normalisation before each ReLU (None = off)"
    )
    dropout: float = Field(default=0.0, ge=0, lt=1, description="probability of dropping a hidden unit")
    weight_scale: float | None = _weight_scale()
    dtype: DType = _dtype()

    def build(self, input_shape: Shape, num_classes: int, reg: float, seed: int) -> Model:
        D = int(np.prod(input_shape))
        return FullyConnectedNet(
            self.hidden, D, num_classes, self.normalization, self.dropout, reg, self.weight_scale, self.dtype, seed
        )


class ConvNetConfig(Section):
    name: Literal["convnet"] = "convnet"
    filters: Widths = Field(default=[16, 32], description="channels of each conv-relu-pool block")
    kernel_size: PositiveInt = Field(default=3, description="conv kernel size (odd: 'same' padding)")
    hidden: Widths = Field(default=[100], description="widths of the affine layers before the classifier")
    weight_scale: float | None = _weight_scale()
    dtype: DType = _dtype()

    def build(self, input_shape: Shape, num_classes: int, reg: float, seed: int) -> Model:
        if len(input_shape) != 3:
            raise ConfigError(f"convnet needs image inputs (C, H, W), got shape {input_shape}", "use model.name=fc")
        args = (self.filters, self.hidden, num_classes, self.kernel_size, reg, self.weight_scale, self.dtype, seed)
        try:
            return ConvNet(input_shape, *args)
        except ValueError as e:
            raise ConfigError(str(e), "change model.filters or model.kernel_size") from None


MODEL_CONFIGS: dict[str, type[Section]] = {
    c.model_fields["name"].default: c for c in (SoftmaxConfig, TwoLayerConfig, FCConfig, ConvNetConfig)
}


def _model_tag(v: Any) -> str:
    return v.get("name", DEFAULT_MODEL) if isinstance(v, dict) else v.name


ModelConfig = Annotated[
    Annotated[SoftmaxConfig, Tag("softmax")]
    | Annotated[TwoLayerConfig, Tag("two_layer")]
    | Annotated[FCConfig, Tag("fc")]
    | Annotated[ConvNetConfig, Tag("convnet")],
    Discriminator(_model_tag),
]


class OptimConfig(Section):
    rule: str = Field(default="adam", description=f"update rule: {', '.join(UPDATE_RULES.names())}")
    lr: float = Field(default=1e-3, gt=0, description="learning rate")
    lr_decay: float = Field(default=1.0, gt=0, le=1, description="lr multiplier applied after each epoch")
    momentum: float = Field(default=0.9, ge=0, lt=1, description="momentum (momentum, nesterov)")
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="moment decay rates (adam)")
    decay_rate: float = Field(default=0.99, gt=0, lt=1, description="squared-gradient decay (rmsprop)")
    eps: float = Field(default=1e-8, gt=0, description="numerical epsilon (rmsprop, adam)")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str) -> str:
        UPDATE_RULES.get(rule)  # raises ConfigError with a did-you-mean
        return rule

    def rule_config(self) -> dict[str, float]:
        """The hyperparameters under the update rules' own names (each rule reads its own)."""
        b1, b2 = self.betas
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "beta1": b1,
            "beta2": b2,
            "decay_rate": self.decay_rate,
            "epsilon": self.eps,
        }


class TrainConfig(Section):
    epochs: PositiveInt = Field(default=10, description="passes over the training set")
    batch_size: PositiveInt = Field(default=100, description="training batch size")
    seed: int = Field(default=0, description="seed of weights, data order and dropout")
    reg: float = Field(default=0.0, ge=0, description="L2 strength on weight matrices (0.5 * reg * ||W||^2)")
    train_acc_samples: PositiveInt | None = Field(
        default=1000, description="training examples scored each epoch (None = all)"
    )
    threads: PositiveInt | None = Field(
        default=1, description="NumPy BLAS threads (None = NumPy's default; these small matrices gain little)"
    )


class ScratchConfig(Section):
    engine: Literal["scratch"] = Field(default="scratch", description="the NumPy engine")
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=TwoLayerConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @model_validator(mode="after")
    def _supported_data(self) -> ScratchConfig:
        if self.data.augment != AugmentConfig():
            raise ConfigError("the scratch engine does not augment data", "remove data.augment")
        if self.data.val_fraction == 0:
            raise ConfigError(
                "the scratch engine picks the best epoch on a validation split", "set data.val_fraction > 0"
            )
        return self


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> ScratchConfig:
    """File values, then ``key.sub=value`` overrides (values parsed as YAML), then
    defaults. Every problem raises :class:`ConfigError`."""
    raw = read_config_file(path) if path is not None else {}
    raw = apply_overrides(raw, overrides or [])
    try:
        return ScratchConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(*_explain(e.errors()[0], raw)) from None


def _explain(err: Any, raw: dict[str, Any]) -> tuple[str, str | None]:
    """One validation error as (problem, fix), naming the dotted key."""
    loc = [str(p) for p in err["loc"]]
    if loc[:1] == ["model"] and len(loc) > 1 and loc[1] in MODEL_CONFIGS:
        del loc[1]  # the union tag pydantic inserts, not a key
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        valid = _section_keys(loc[:-1], raw)
        close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
        fix = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
        return f"unknown config key {key!r}", fix
    if err["type"] == "union_tag_invalid":
        tag = str(err["ctx"]["tag"])
        return f"unknown model {tag!r}", did_you_mean(tag, list(MODEL_CONFIGS))
    where = f" for {key!r}" if key else ""
    return f"invalid value{where}: {err['msg']} (got {err.get('input')!r})", None


def _section_keys(loc: list[str], raw: dict[str, Any]) -> list[str]:
    section: type[BaseModel] = ScratchConfig
    for part in loc:
        if part == "model":
            model = raw.get("model")
            section = MODEL_CONFIGS[model.get("name", DEFAULT_MODEL) if isinstance(model, dict) else DEFAULT_MODEL]
            continue
        ann = section.model_fields[part].annotation
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        section = ann
    return list(section.model_fields)
