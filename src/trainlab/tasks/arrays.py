"""What the array tasks share (classification, binary, regression, gaussian_nll, multitask).

The data are arrays from the dataset registry, resident on the device as the task trains on them
(`encode`: e.g. standardised targets); batches are index slices, augmented on the device. A task
says how many outputs its model has, how its outputs read as per-example predictions (`decode`, in
the targets' own units: the predictions file and the figures), and what `trainlab eval` prints.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from trainlab.config.schema import Config, DataConfig
from trainlab.data import load_dataset
from trainlab.data.augment import augment
from trainlab.data.base import TargetKind
from trainlab.data.tensors import TensorSplit, shard_rows
from trainlab.engine.evaluate import eval_sums
from trainlab.engine.task import Batch, EvalOptions, EvalReport, Member, ReportTable, Stats, Task
from trainlab.errors import ConfigError, UserError
from trainlab.models import build_model
from trainlab.report.figures import plot_decision_boundary
from trainlab.runs import RunDir

SPLITS = ("train", "val", "test")
SEQUENCE_DATA = {"math": "task=seq2seq", "text": "task=char_lm"}  # data the sequence tasks read
TASKS_OF_KIND: dict[TargetKind, str] = {
    "class": "task=classification (or task=binary for two classes)",
    "real": "task=regression or task=gaussian_nll",
    "multihead": "task=multitask",
}


class ArrayTask(Task):
    """A task on a registry dataset whose targets are of one of `target_kinds`."""

    target_kinds: ClassVar[tuple[TargetKind, ...]] = ("class",)
    eval_options = frozenset({"predictions"})
    transfer_group = "arrays"  # e.g. an autoencoder's encoder starts a classifier
    capturable = True  # (x, y) tuples, steps of tensor ops alone

    def __init__(self, cfg: Config, device: torch.device) -> None:
        name, task = cfg.data.name, cfg.task.name
        if name in SEQUENCE_DATA:
            raise ConfigError(f"task {task} does not read data.name={name}",
                              f"set {SEQUENCE_DATA[name]} for {name} (or pick an array dataset)")
        self.cfg, self.device = cfg, device
        self.data = data = load_dataset(cfg.data)
        kind = data.target_kind
        if kind not in self.target_kinds:
            raise ConfigError(f"data.name={name} has {kind} targets, which task {task} does not train on",
                              f"use {TASKS_OF_KIND[kind]} for them, or pick a dataset with "
                              f"{' or '.join(self.target_kinds)} targets")
        self.setup()
        cl = cfg.train.channels_last
        self.splits = {s: TensorSplit.from_arrays(x, self.encode(y), device, cl, data.mean, data.std)
                       for s in SPLITS for x, y in [data.split(s)]}

    def setup(self) -> None:
        """Checks and statistics of the loaded `self.data` before its splits go to the device."""

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Targets as the task trains on them (default: as the dataset gives them)."""
        return y

    @property
    def num_outputs(self) -> int:
        """Outputs of the model (the last layer's width)."""
        return self.data.num_classes

    def decode(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's outputs as named per-example predictions in the targets' units."""
        return {"label": out.argmax(dim=-1)}

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        return build_model((cfg or self.cfg).model, self.data.input_shape, self.num_outputs)

    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[Batch]:
        """Under DDP every rank draws and augments the same global batches, as one process does, and keeps its
        share: the same examples and augmentations as one process (augmenting is cheap beside the step)."""
        aug, shard, train, norm = self.cfg.data.augment, self.shard, self.cfg.train, (self.data.mean, self.data.std)
        for x, y in self.splits["train"].batches(train.batch_size, gen, world=shard[1], drop_last=train.drop_last,
                                                 transform=lambda xs: augment(xs, aug, gen, norm)):
            yield shard_rows(x, shard), shard_rows(y, shard)

    def eval_batches(self, split: str) -> Iterator[Batch]:
        return self.splits[split].batches(self.cfg.train.eval_batch_size)

    def num_train_batches(self) -> int:
        return self.splits["train"].num_batches(self.cfg.train.batch_size, shuffle=True, world=self.shard[1],
                                                drop_last=self.cfg.train.drop_last)

    def split_names(self) -> list[str]:
        return [name for name in SPLITS if len(self.splits[name])]

    def sums(self, model: nn.Module, split: str) -> Stats:
        """The step statistics of `split`, summed (eval mode)."""
        return eval_sums(model, self.eval_batches(split), lambda m, b: self.step(m, b)[1])

    def predict(self, model: nn.Module, split: str) -> dict[str, np.ndarray]:
        """`decode`'s columns over a whole split, in order."""
        cols = eval_sums(model, self.eval_batches(split),
                         lambda m, b: {k: [v] for k, v in self.decode(m(b[0])).items()})
        return {k: torch.cat(v).cpu().numpy() for k, v in cols.items()}

    # ------------------------------------------------------------- evaluation
    def check_member(self, run: RunDir, cfg: Config, first: RunDir, split: str) -> None:
        if _split_settings(cfg.data) != _split_settings(self.cfg.data):
            raise UserError(f"{run.path.name} was trained on other data than {first.path.name}",
                            "ensemble only runs with the same dataset and split")

    def tables(self, sums: Stats) -> list[ReportTable]:
        """Tables `trainlab eval` prints below the metrics line (per target, per head, ...)."""
        return []

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str, options: EvalOptions) -> EvalReport:
        """The task's metrics and tables on `split`; with `--predictions`, the decoded predictions as CSV."""
        member = members[0]
        sums = self.sums(member.model, split)
        metrics = self.summarize(sums)
        line = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        report = EvalReport([f"{member.name} [{split}, {checkpoint}]: {line}"], self.tables(sums), metrics)
        self.predictions_file(member.model, split, options, report)
        return report

    def predictions_file(self, model: nn.Module, split: str, options: EvalOptions, report: EvalReport) -> None:
        """With `--predictions F`: `decode`'s columns of `split` written to F, and a line saying so."""
        if options.predictions is not None:
            write_predictions(options.predictions, self.predict(model, split))
            report.lines.append(f"predictions: {options.predictions}")

    # ------------------------------------------------------------------ figures
    def plot_boundary(self, model: nn.Module, run_dir: RunDir, classes: Sequence[str]) -> None:
        """plots/decision_boundary.png for 2-D inputs: `decode`'s labels over the plane, the test points on top
        (in the data's own units)."""
        if self.data.input_shape != (2,) or not self.has_split("test"):
            return
        mean, std = self.data.mean, self.data.std

        @torch.no_grad()
        def predict(grid: np.ndarray) -> np.ndarray:
            model.eval()
            x = torch.from_numpy(((grid - mean) / std).astype(np.float32)).to(self.device)
            return self.decode(model(x))["label"].cpu().numpy()

        x, y = self.data.split("test")
        plot_decision_boundary(predict, x * std + mean, y, run_dir.plots / "decision_boundary.png", classes,
                               title=f"{run_dir.path.name}: test")


def _split_settings(cfg: DataConfig) -> DataConfig:
    """The data settings that decide the evaluated splits' inputs (augmentation is training-only)."""
    return cfg.model_copy(update={"augment": None, "download": True})


def sum_dtype(device: torch.device) -> torch.dtype:
    """float64 for sums of squares where the device has it (R² from Σy and Σy² needs the precision)."""
    return torch.float32 if device.type == "mps" else torch.float64


def write_predictions(path: Path, columns: dict[str, np.ndarray]) -> None:
    """A CSV with `id` (the example's index in the split) and one column per named prediction."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = [c.tolist() for c in columns.values()]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *columns])
        writer.writerows([i, *row] for i, row in enumerate(zip(*values, strict=True)))
