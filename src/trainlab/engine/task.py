"""The task interface: what the one training loop, `trainlab eval` and `trainlab sample` ask of a task.

A task owns its data adapter, loss, metrics, evaluation, sampling and final report; the Trainer owns
everything else (gradients, schedules, checkpoints, callbacks). Tasks live in `trainlab.tasks`, one
room each; nothing here knows any of them.

A task sums per-batch statistics as tensors (no host sync per step); `summarize` turns the sums into
epoch metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.errors import ConfigError, UserError
from trainlab.runs import RunDir

Batch = Any
Stats = dict[str, Any]  # tensors summed over batches (a list value is concatenated)


@dataclass
class EvalOptions:
    """What `trainlab eval` asks beyond split and checkpoint; a task names the ones it reads in `eval_options`."""

    beam: int | None = None
    predictions: Path | None = None
    tta: tuple[str, ...] | None = None  # test-time augmentation views, e.g. ("flip", "crop")

    def given(self) -> list[str]:
        return [k for k, v in vars(self).items() if v is not None]


@dataclass
class SampleOptions:
    """What `trainlab sample` asks: characters to generate and temperature (language models), beam width."""

    length: int = 200
    temperature: float = 1.0
    beam: int | None = None


@dataclass
class ReportTable:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class EvalReport:
    """What `trainlab eval` prints: summary lines, then tables; `metrics` holds the figures as numbers."""

    lines: list[str]
    tables: list[ReportTable] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Member:
    """One run of an evaluation (several: an ensemble): its name, config and model with the run's weights."""

    name: str
    cfg: Config
    model: nn.Module


class Task(ABC):
    """What is trained. Subclasses define data, batches, the loss, metrics, evaluation and reports."""

    #: metric names (without the split prefix) shown in logs and metrics.csv
    metrics: tuple[str, ...] = ("loss",)
    #: the metric that picks the best epoch unless train.early_stop.metric names another
    monitor: str = "loss"
    #: metrics for which lower is better (the others: higher)
    minimized: frozenset[str] = frozenset({"loss"})
    #: the `EvalOptions` fields `evaluate` reads; others given to `trainlab eval` are refused
    eval_options: frozenset[str] = frozenset()
    #: whether several runs can be evaluated as one ensemble
    ensembles: bool = False
    #: the `loss.name` values the task trains with, its default first
    losses: tuple[str, ...] = ("cross_entropy",)
    #: tasks of one group start from each other's runs with train.init_from (the backbone's matching weights);
    #: None: only from runs of the same task
    transfer_group: str | None = None
    #: whether `step` may be captured as a CUDA graph (train.cuda_graphs): batches are tuples of tensors, and the
    #: step is device work alone (no host sync, no Python decision on tensor values or random draws)
    capturable: bool = False
    #: where the task's batches live (the model is moved there)
    device: torch.device
    #: (rank, world size): under DDP each of `world` processes trains on its equal share of every training batch
    #: (`data.tensors.shard_rows`); the Trainer sets it, (0, 1) in one process
    shard: tuple[int, int] = (0, 1)
    cfg: Config

    @classmethod
    def for_run(cls, run: RunDir, cfg: Config, device: torch.device) -> Task:
        """This task on `cfg`'s data, sized as in the finished `run` (which may have trained on other data)."""
        return cls(cfg, device)  # type: ignore[call-arg]

    @classmethod
    def for_inference(cls, run: RunDir, cfg: Config, device: torch.device) -> Task:
        """The finished run's task as far as building its model and sampling need (it may skip reading data)."""
        return cls.for_run(run, cfg, device)

    @abstractmethod
    def build_model(self, cfg: Config | None = None) -> nn.Module:
        """The model named by `cfg` (default: the task's config), sized for this task's data."""

    @abstractmethod
    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[Batch]:
        """Epoch `epoch` (1-based) of shuffled (and augmented) training batches on the device; `gen` is
        that epoch's generator."""

    @abstractmethod
    def eval_batches(self, split: str) -> Iterator[Batch]:
        """Batches of `split` in order."""

    @abstractmethod
    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        """Forward one batch: (mean loss to minimise, statistics to sum over the epoch)."""

    @abstractmethod
    def summarize(self, sums: Stats) -> dict[str, float]:
        """Epoch metrics from summed statistics."""

    @abstractmethod
    def num_train_batches(self) -> int: ...

    @abstractmethod
    def split_names(self) -> list[str]:
        """The non-empty splits, train first."""

    def has_split(self, split: str) -> bool:
        return split in self.split_names()

    def monitored(self, metric: str | None) -> tuple[str, str]:
        """(the metric watched, "min" or "max"): `metric` (train.early_stop.metric) or the task's own, on val, or
        on train where there is no val split."""
        metric = metric or f"val_{self.monitor}"
        split, _, name = metric.partition("_")
        if split not in ("val", "train") or name not in self.metrics:
            choices = ", ".join(f"val_{m}" for m in self.metrics)
            raise ConfigError(f"train.early_stop.metric={metric} is not a metric of task {self.cfg.task.name}",
                              f"use one of: {choices}")
        split = split if self.has_split("val") else "train"
        return f"{split}_{name}", "min" if name in self.minimized else "max"

    def loss_name(self, name: str | None = None) -> str:
        """`name` (default: loss.name) when the task trains with it, its default loss when None; else refused."""
        name = name if name is not None else self.cfg.loss.name
        if name is None:
            return self.losses[0]
        if name not in self.losses:
            raise ConfigError(f"task {self.cfg.task.name} does not train with loss.name={name}",
                              f"use one of: {', '.join(self.losses)} (or leave loss.name unset)")
        return name

    def examples(self, batch: Batch) -> int:
        """Examples in a batch (for throughput)."""
        return len(batch[0])

    def probe_batch(self, split: str, size: int) -> Batch:
        """A fixed batch of at most `size` examples of `split` (for activation statistics)."""
        return tuple(t[:size] for t in next(iter(self.eval_batches(split))))

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """Extra files and summary fields after training (best weights loaded); `test` holds the test
        split's summed step statistics, already computed for the test metrics."""
        return {}

    def check_member(self, run: RunDir, cfg: Config, first: RunDir, split: str) -> None:
        """Refuse an ensemble member `run` (config `cfg`) trained on other data than `first`, whose config this
        task was built from (UserError). A task that allows ensembles checks what its splits depend on."""
        return None

    @abstractmethod
    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str, options: EvalOptions) -> EvalReport:
        """Score one run, or an ensemble of several (`ensembles`), on `split`."""

    def sample(self, model: nn.Module, prompt: str, options: SampleOptions, gen: torch.Generator) -> str:
        """What the model makes of `prompt` (`trainlab sample`)."""
        raise UserError(f"{self.cfg.task.name} runs do not generate text", "pass a char_lm or seq2seq run")
