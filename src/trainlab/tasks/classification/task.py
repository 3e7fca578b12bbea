"""Classification: inputs → class logits, scored by the configured loss, accuracy and the confusion matrix.

The data are arrays from the dataset registry, resident on the device; batches are index slices,
augmented on the device. An ensemble is one model (the mean of the members' probabilities), scored
by the same `step` as a single run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainlab.config.schema import Config, DataConfig
from trainlab.data import load_dataset
from trainlab.data.augment import augment
from trainlab.data.tensors import TensorSplit
from trainlab.engine.evaluate import eval_sums
from trainlab.engine.optim import build_loss
from trainlab.engine.task import Batch, EvalOptions, EvalReport, Member, ReportTable, Stats, Task
from trainlab.errors import ConfigError, UserError
from trainlab.models import AuxOutput, build_model
from trainlab.models.ensemble import Ensemble
from trainlab.report.figures import plot_confusion
from trainlab.runs import RunDir
from trainlab.tasks.registry import TASKS

SPLITS = ("train", "val", "test")


@dataclass
class ClassificationReport(EvalReport):
    """The figures of `trainlab eval` on a classification run or ensemble, per class and overall."""

    split: str = "test"
    classes: list[str] = field(default_factory=list)
    loss: float = 0.0
    acc: float = 0.0
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    members: list[tuple[str, float]] = field(default_factory=list)  # (run name, accuracy) of an ensemble's runs

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def recall(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.support)

    @property
    def precision(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)

    @property
    def ensemble_gain(self) -> float | None:
        """Ensemble accuracy minus the best member's (None for a single run)."""
        return self.acc - max(acc for _, acc in self.members) if len(self.members) > 1 else None


@TASKS.register("classification")
class ClassificationTask(Task):
    metrics = ("loss", "acc")
    monitor = "acc"
    eval_options = frozenset({"predictions"})
    ensembles = True

    def __init__(self, cfg: Config, device: torch.device) -> None:
        if cfg.data.name in ("math", "text"):
            raise ConfigError(f"task classification does not read data.name={cfg.data.name}",
                              "set task=seq2seq for math, task=char_lm for text (or pick an image dataset)")
        self.cfg, self.device = cfg, device
        self.data = data = load_dataset(cfg.data)
        if data.target_kind != "class":
            raise ConfigError(f"data.name={cfg.data.name} has {data.target_kind} targets, not one class label",
                              "classification trains on class labels: pick a classification dataset")
        self.loss_fn = build_loss(cfg.loss)
        cl = cfg.train.channels_last
        self.splits = {name: TensorSplit.from_arrays(*data.split(name), device, cl) for name in SPLITS}

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        return build_model((cfg or self.cfg).model, self.data.input_shape, self.data.num_classes)

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

    def split_names(self) -> list[str]:
        return [name for name in SPLITS if len(self.splits[name])]

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/confusion.png of the test split, from the counts of the test evaluation."""
        plot_confusion(self._confusion(test), self.data.classes, run_dir.plots / "confusion.png",
                       title=f"{run_dir.path.name}: test")
        return {}

    # ------------------------------------------------------------- evaluation
    def check_member(self, run: RunDir, cfg: Config, first: RunDir, split: str) -> None:
        if _split_settings(cfg.data) != _split_settings(self.cfg.data):
            raise UserError(f"{run.path.name} was trained on other data than {first.path.name}",
                            "ensemble only runs with the same dataset and split")

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str,
                 options: EvalOptions) -> ClassificationReport:
        """Loss, accuracy and confusion of one run or of the ensemble; per-member accuracy; predictions CSV."""
        model = members[0].model if len(members) == 1 else Ensemble([m.model for m in members])
        sums = self._sums(model, split)
        metrics = self.summarize(sums)
        scores = [(m.name, self.summarize(self._sums(m.model, split))["acc"]) for m in members] \
            if len(members) > 1 else []
        head = "ensemble" if scores else members[0].name
        report = ClassificationReport(
            lines=[f"member {name}: acc {acc:.4f}" for name, acc in scores], metrics=metrics, split=split,
            classes=self.data.classes, loss=metrics["loss"], acc=metrics["acc"], confusion=self._confusion(sums),
            members=scores)
        report.lines.append(f"{head} [{split}, {checkpoint}]: loss {report.loss:.4f}  acc {report.acc:.4f}")
        if report.ensemble_gain is not None:
            report.lines.append(f"ensemble gain over the best member: {report.ensemble_gain:+.4f}")
        report.tables = [_per_class_table(report), _confusion_table(report)]
        if options.predictions is not None:
            preds = eval_sums(model, self.eval_batches(split), lambda m, b: {"pred": [m(b[0]).argmax(-1)]})
            write_predictions(options.predictions, torch.cat(preds["pred"]).cpu().numpy())
            report.lines.append(f"predictions: {options.predictions}")
        return report

    def _sums(self, model: nn.Module, split: str) -> Stats:
        return eval_sums(model, self.eval_batches(split), lambda m, b: self.step(m, b)[1])

    def _confusion(self, sums: Stats) -> np.ndarray:
        k = self.data.num_classes
        return sums["confusion"].view(k, k).cpu().numpy()


def _split_settings(cfg: DataConfig) -> DataConfig:
    """The data settings that decide the evaluated splits' inputs (augmentation is training-only)."""
    return cfg.model_copy(update={"augment": None, "download": True})


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


def _per_class_table(r: ClassificationReport) -> ReportTable:
    rows = [[c, f"{r.precision[i]:.3f}", f"{r.recall[i]:.3f}", f"{r.f1[i]:.3f}", str(int(r.support[i]))]
            for i, c in enumerate(r.classes)]
    return ReportTable("per class", ["class", "precision", "recall", "f1", "support"], rows)


def _confusion_table(r: ClassificationReport) -> ReportTable:
    rows = [[f"{i} {c}", *(str(int(v)) for v in r.confusion[i])] for i, c in enumerate(r.classes)]
    return ReportTable("confusion matrix", ["true \\ pred", *(str(i) for i in range(len(r.classes)))], rows)


def write_predictions(path: Path, pred: np.ndarray) -> None:
    """An `id,label` CSV: the example's index in the split and the predicted class index."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label"])
        writer.writerows(enumerate(pred.tolist()))
