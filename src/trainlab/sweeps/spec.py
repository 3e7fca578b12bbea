"""The sweep spec: a YAML file naming a base config, a search space over dotted config keys, the method,
the objective, the trial budget and optional pruning. Validated by pydantic; errors are one line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from trainlab import yamlfile
from trainlab.config import Config
from trainlab.config.load import apply_overrides, read_config_file, validate
from trainlab.errors import ConfigError

Scalar = bool | int | float | str | None


class Choices(BaseModel):
    """One of a list of values (categorical). A list value (`model.hidden: {choices: [[64], [128, 64]]}`) reaches
    Optuna, whose categories are scalars, as its JSON text, and the trial's config as the list again."""

    model_config = ConfigDict(extra="forbid")
    choices: list[Scalar | list[Scalar]] = Field(min_length=1, description="the values tried (scalars or lists)")

    def grid(self) -> list[Scalar]:
        """The choices as Optuna's categories (a list as its JSON text)."""
        return [json.dumps(c) if isinstance(c, list) else c for c in self.choices]

    def corners(self) -> list[Scalar]:
        return self.grid()

    def decode(self, value: Any) -> Any:
        """A category back as the config value it stands for."""
        lists = {json.dumps(c) for c in self.choices if isinstance(c, list)}
        return json.loads(value) if isinstance(value, str) and value in lists else value


class Range(BaseModel):
    """An int or float range, optionally on a log scale."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["float", "int"] = Field("float", description="int or float values")
    low: float = Field(description="smallest value")
    high: float = Field(description="largest value")
    log: bool = Field(False, description="sample on a log scale (low > 0)")
    step: float | None = Field(None, gt=0, description="spacing of the values (not with log)")
    num: int | None = Field(None, ge=2, description="grid only: this many points from low to high (geometric if log)")

    @model_validator(mode="after")
    def _check(self) -> Range:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("step and log cannot be combined")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int range needs whole low and high")
        return self

    def cast(self, v: float) -> int | float:
        return round(v) if self.type == "int" else float(v)

    def grid(self) -> list[Scalar]:
        if self.num is not None:
            if self.log:
                ratio = (self.high / self.low) ** (1 / (self.num - 1))
                points = [self.low * ratio**i for i in range(self.num)]
            else:
                points = [self.low + (self.high - self.low) * i / (self.num - 1) for i in range(self.num)]
            return list(dict.fromkeys(self.cast(p) for p in points))
        step = self.step or (1 if self.type == "int" else None)
        if step is None:
            raise ValueError("a float range in a grid needs `num` or `step`")
        count = math.floor((self.high - self.low) / step + 1e-9) + 1
        return [self.cast(self.low + i * step) for i in range(count)]

    def corners(self) -> list[Scalar]:
        return [self.cast(self.low), self.cast(self.high)]


def _kind(dim: Any) -> str:
    has_choices = "choices" in dim if isinstance(dim, dict) else isinstance(dim, Choices)
    return "choices" if has_choices else "range"


#: one dimension of the search space: `{choices: [...]}` or a range `{low, high, ...}`
Dimension = Annotated[Annotated[Choices, Tag("choices")] | Annotated[Range, Tag("range")], Discriminator(_kind)]


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str = Field("best_val_acc", description="a numeric field of the trials' summary.json")
    direction: Literal["max", "min"] = Field("max", description="maximise or minimise it")


class Pruning(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pruner: Literal["median", "halving"] = Field("median", description="Optuna's MedianPruner or "
                                                 "SuccessiveHalvingPruner")
    metric: str | None = Field(None, description="the per-epoch metric reported (default: the objective's, "
                                                 "on val: best_val_acc → val_acc, test_rmse → val_rmse)")
    startup_trials: int = Field(2, ge=0, description="median: trials finished before any is pruned")
    warmup_epochs: int = Field(0, ge=0, description="median: epochs of a trial before it may be pruned")
    min_resource: int | Literal["auto"] = Field("auto", description="halving: epochs of the first rung")
    reduction_factor: int = Field(3, ge=2, description="halving: 1/factor of the trials go on at each rung")


class SweepSpec(BaseModel):
    """What `trainlab sweep SPEC.yaml` runs (docs/sweeps.md)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, description="the sweep's name (default: the spec file's name)")
    base: str | None = Field(None, description="base config file, relative to the spec file")
    overrides: list[str] = Field(default_factory=list, description="key=value overrides of the base config")
    method: Literal["grid", "random", "tpe"] = Field("tpe", description="grid, random or tpe (Optuna samplers)")
    seed: int = Field(0, description="seed of the sampler")
    trials: int | None = Field(None, ge=1, description="trial budget (grid: default and most = the grid's size)")
    objective: Objective = Field(default_factory=Objective, description="the summary metric optimised")
    space: dict[str, Dimension] = Field(min_length=1, description="dotted config key → choices or range")
    pruning: Pruning | None = Field(None, description="stop bad trials early (fed the per-epoch val metric)")
    enqueue: list[dict[str, Scalar]] = Field(default_factory=list, description="parameter sets tried first")

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        if self.method != "grid" and self.trials is None:
            raise ValueError("no trial budget: add e.g. `trials: 20` (only a grid has a size of its own)")
        for params in self.enqueue:
            for key in params:
                if key not in self.space:
                    raise ValueError(f"enqueued key {key!r} is not in the space")
            if self.method == "grid" and set(params) != set(self.space):
                raise ValueError("a grid's enqueued trials set every key of the space")
        if self.method == "grid":
            for key, dim in self.space.items():
                try:
                    dim.grid()
                except ValueError as e:
                    raise ValueError(f"space.{key}: {e}") from None
        return self

    # ------------------------------------------------------------------ derived
    def grid(self) -> dict[str, list[Scalar]]:
        return {key: dim.grid() for key, dim in self.space.items()}

    def budget(self) -> int:
        """Trials to finish: `trials`, capped (and defaulted) by the grid's size."""
        if self.method == "grid":
            size = math.prod(len(v) for v in self.grid().values()) + len(self.enqueue)
            return min(self.trials or size, size)
        return int(self.trials or 0)

    def pruning_metric(self) -> str:
        if self.pruning and self.pruning.metric:
            return self.pruning.metric
        name = self.objective.metric.removeprefix("best_")
        return name if name.startswith(("val_", "train_")) else "val_" + name.partition("_")[2]

    def trial_config(self, base: dict[str, Any], params: dict[str, Any]) -> Config:
        """The resolved config of a trial: the base config, then the trial's parameters."""
        values = {k: self.space[k].decode(v) if isinstance(self.space.get(k), Choices) else v
                  for k, v in params.items()}
        return validate(apply_overrides(base, [f"{k}={json.dumps(v)}" for k, v in values.items()]))


def read_spec(path: Path) -> SweepSpec:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"sweep spec {path} not found", "check the path")
    try:
        raw = yamlfile.safe_load(path.read_text())
    except yaml.YAMLError:
        raise ConfigError(f"sweep spec {path} is not valid YAML", "fix its syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"sweep spec {path} must hold a mapping", "see configs/sweeps/digits_lr.yaml")
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p not in ("choices", "range"))
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"sweep spec {path}: {where + ': ' if where else ''}{msg}",
                          "see docs/sweeps.md for the spec's keys") from None
    if spec.name is None:
        spec = spec.model_copy(update={"name": path.stem})
    return spec


def base_config(spec: SweepSpec, spec_path: Path) -> dict[str, Any]:
    """The base config as a raw dict (file + overrides), checked: it and each extreme value of the space give
    valid configs (a bad key or value is refused before anything is written)."""
    raw = read_config_file(spec_path.parent / spec.base) if spec.base else {}
    raw = apply_overrides(raw, spec.overrides)
    validate(raw)
    for key, dim in spec.space.items():
        for value in dim.corners():
            try:
                spec.trial_config(raw, {key: value})
            except ConfigError as e:
                raise ConfigError(f"sweep space {key}={value!r}: {e.problem}", e.fix) from None
    return raw
