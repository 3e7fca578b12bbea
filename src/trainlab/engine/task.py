"""Tasks plug into the one training loop: what a batch is, its loss, and its metrics.

A task sums per-batch statistics as tensors (no host sync per step); `summarize` turns the
sums into epoch metrics. The Trainer owns everything else: gradients, schedules,
checkpoints, callbacks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.data import load_dataset
from trainlab.data.augment import augment
from trainlab.data.tensors import TensorSplit
from trainlab.engine.optim import build_loss
from trainlab.models import AuxOutput, build_model
from trainlab.registry import Registry
from trainlab.report.figures import plot_confusion
from trainlab.runs import RunDir

Batch = Any
Stats = dict[str, torch.Tensor]


class Task(ABC):
    """What is trained. Subclasses define batches, the loss and metrics."""

    #: metric names (without the split prefix) shown in logs and metrics.csv
    metrics: tuple[str, ...] = ("loss",)
    #: where the task's batches live (the model is moved there)
    device: torch.device

    @classmethod
    def for_run(cls, run: RunDir, cfg: Config, device: torch.device) -> Task:
        """This task on `cfg`'s data, sized as in the finished `run` (which may have trained on other data)."""
        return cls(cfg, device)

    @abstractmethod
    def build_model(self) -> nn.Module:
        """The model named by the config, sized for this task's data."""

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
    def has_split(self, split: str) -> bool: ...

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """Extra files and summary fields after training (best weights loaded); `test` holds the test
        split's summed step statistics, already computed for the test metrics."""
        return {}

    def examples(self, batch: Batch) -> int:
        """Examples in a batch (for throughput)."""
        return len(batch[0])


class ClassificationTask(Task):
    """Inputs → class logits, scored by the configured loss and accuracy."""

    metrics = ("loss", "acc")

    def __init__(self, cfg: Config, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        self.data = data = load_dataset(cfg.data)
        self.loss_fn = build_loss(cfg.loss)
        cl = cfg.train.channels_last
        self.splits = {
            name: TensorSplit.from_arrays(*data.split(name), device, cl) for name in ("train", "val", "test")
        }

    def build_model(self) -> nn.Module:
        return build_model(self.cfg.model, self.data.input_shape, self.data.num_classes)

    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[Batch]:
        aug = self.cfg.data.augment
        for x, y in self.splits["train"].batches(self.cfg.train.batch_size, gen):
            yield augment(x, aug, gen), y

    def eval_batches(self, split: str) -> Iterator[Batch]:
        return self.splits[split].batches(self.cfg.train.eval_batch_size)

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        out = model(x)
        logits = out.logits if isinstance(out, AuxOutput) else out
        loss = self.loss_fn(logits, y)
        n = torch.full((), len(y), device=y.device)  # made on the device: no host-to-device copy per step
        pred = logits.argmax(dim=-1)
        stats = {"loss": loss.detach().float() * n, "correct": (pred == y).sum(), "count": n}
        if not model.training:  # evaluation also counts (true, predicted) pairs: the confusion matrix
            k = logits.shape[-1]
            stats["confusion"] = torch.bincount(y * k + pred, minlength=k * k)
        if isinstance(out, AuxOutput):  # deep supervision: auxiliary losses join the objective, reported apart
            aux_loss = torch.stack([self.loss_fn(a, y) for a in out.aux]).sum()
            stats["aux_loss"] = aux_loss.detach().float() * n
            loss = loss + out.weight * aux_loss
        return loss, stats

    def summarize(self, sums: Stats) -> dict[str, float]:
        count = max(float(sums["count"]), 1.0)
        out = {"loss": float(sums["loss"]) / count, "acc": float(sums["correct"]) / count}
        return out | ({"aux_loss": float(sums["aux_loss"]) / count} if "aux_loss" in sums else {})

    def num_train_batches(self) -> int:
        return self.splits["train"].num_batches(self.cfg.train.batch_size, shuffle=True)

    def has_split(self, split: str) -> bool:
        return len(self.splits[split]) > 0

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/confusion.png of the test split, from the counts of the test evaluation."""
        k = self.data.num_classes
        matrix = test["confusion"].view(k, k).cpu().numpy()
        plot_confusion(matrix, self.data.classes, run_dir.plots / "confusion.png", title=f"{run_dir.path.name}: test")
        return {}

    @torch.no_grad()
    def predict(self, model: nn.Module, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Softmax probabilities and labels of a split (model in eval mode)."""
        model.eval()
        probs, labels = [], []
        for x, y in self.eval_batches(split):
            probs.append(torch.softmax(model(x).float(), dim=-1).cpu())
            labels.append(y.cpu())
        return torch.cat(probs).numpy(), torch.cat(labels).numpy()


TaskBuilder = Callable[[Config, torch.device], Task]
TASKS: Registry[TaskBuilder] = Registry("task")
TASKS.register("classification")(ClassificationTask)
