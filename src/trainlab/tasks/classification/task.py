"""Classification: inputs → class logits, scored by the configured loss, accuracy and the confusion matrix.

An ensemble is one model (the mean of the members' probabilities), scored by the same `step` as a
single run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.data.augment import tta_views
from trainlab.engine.optim import build_loss
from trainlab.engine.task import Batch, EvalOptions, EvalReport, Member, ReportTable, Stats
from trainlab.errors import UserError
from trainlab.models import AuxOutput
from trainlab.models.ensemble import Ensemble
from trainlab.models.tta import TTA
from trainlab.report.figures import plot_confusion
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask
from trainlab.tasks.registry import TASKS


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
class ClassificationTask(ArrayTask):
    metrics = ("loss", "acc")
    monitor = "acc"
    ensembles = True
    eval_options = ArrayTask.eval_options | {"tta"}
    losses = ("cross_entropy", "nll", "mse", "bce_with_logits")

    def __init__(self, cfg: Config, device: torch.device) -> None:
        super().__init__(cfg, device)
        self.loss_fn = build_loss(cfg.loss, self.loss_name())
        # task.tta_flip: evaluation scores each image and its mirror image (the views of `eval --tta flip`)
        self.views = tta_views(["flip"], 0) if cfg.task.tta_flip else None

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        training = model.training  # of the model itself: a TTA wrapper made here is a new module (training mode)
        if self.views and not training and x.ndim == 4:
            model = TTA(model, self.views)  # the mean of the views' probabilities, in one batch
        out = model(x)
        logits = out.logits if isinstance(out, AuxOutput) else out
        loss = self.loss_fn(logits, y)
        n = torch.full((), len(y), device=y.device)  # made on the device: no host-to-device copy per step
        pred = logits.argmax(dim=-1)
        stats = {"loss": loss.detach().float() * n, "correct": (pred == y).sum(), "count": n}
        if not training:  # evaluation also counts (true, predicted) pairs: the confusion matrix
            stats["confusion"] = confusion_counts(y, pred, logits.shape[-1])
        if isinstance(out, AuxOutput):  # deep supervision: auxiliary losses join the objective, reported apart
            aux_loss = torch.stack([self.loss_fn(a, y) for a in out.aux]).sum()
            stats["aux_loss"] = aux_loss.detach().float() * n
            loss = loss + out.weight * aux_loss
        return loss, stats

    def summarize(self, sums: Stats) -> dict[str, float]:
        count = max(float(sums["count"]), 1.0)
        out = {"loss": float(sums["loss"]) / count, "acc": float(sums["correct"]) / count}
        return out | ({"aux_loss": float(sums["aux_loss"]) / count} if "aux_loss" in sums else {})

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/confusion.png of the test split (from the test evaluation's counts); plots/decision_boundary.png
        for 2-D inputs."""
        plot_confusion(self._confusion(test), self.data.classes, run_dir.plots / "confusion.png",
                       title=f"{run_dir.path.name}: test")
        self.plot_boundary(model, run_dir, self.data.classes)
        return {}

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str,
                 options: EvalOptions) -> ClassificationReport:
        """Loss, accuracy and confusion of one run or of the ensemble; per-member accuracy; with --tta, the
        augmented model's loss and accuracy beside (its predictions go to the CSV); predictions CSV."""
        model = members[0].model if len(members) == 1 else Ensemble([m.model for m in members])
        augmented = self._tta(model, options.tta) if options.tta is not None else None
        sums = self.sums(model, split)
        metrics = self.summarize(sums)
        scores = [(m.name, self.summarize(self.sums(m.model, split))["acc"]) for m in members] \
            if len(members) > 1 else []
        head = "ensemble" if scores else members[0].name
        report = ClassificationReport(
            lines=[f"member {name}: acc {acc:.4f}" for name, acc in scores], metrics=metrics, split=split,
            classes=self.data.classes, loss=metrics["loss"], acc=metrics["acc"], confusion=self._confusion(sums),
            members=scores)
        report.lines.append(f"{head} [{split}, {checkpoint}]: loss {report.loss:.4f}  acc {report.acc:.4f}")
        if report.ensemble_gain is not None:
            report.lines.append(f"ensemble gain over the best member: {report.ensemble_gain:+.4f}")
        report.tables = class_tables(report)
        if augmented is not None:
            model = augmented
            tta = self.summarize(self.sums(model, split))
            report.metrics |= {f"tta_{k}": v for k, v in tta.items()}
            report.lines.append(f"{head} + TTA ({', '.join(options.tta or ())}: {len(augmented.views)} views) "
                                f"[{split}, {checkpoint}]: loss {tta['loss']:.4f}  acc {tta['acc']:.4f}  "
                                f"({tta['acc'] - report.acc:+.4f} over plain)")
        self.predictions_file(model, split, options, report)
        return report

    def _tta(self, model: nn.Module, names: Sequence[str]) -> TTA:
        """`model` averaged over the named views of its images, shifted by the run's crop padding (else 1 px)."""
        if len(self.data.input_shape) != 3:
            raise UserError(f"--tta flips and shifts images; data.name={self.cfg.data.name} inputs are not images",
                            "leave out --tta")
        return TTA(model, tta_views(names, self.cfg.data.augment.crop_padding or 1))

    def _confusion(self, sums: Stats) -> np.ndarray:
        k = self.data.num_classes
        return sums["confusion"].view(k, k).cpu().numpy()


def confusion_counts(y: torch.Tensor, pred: torch.Tensor, k: int) -> torch.Tensor:
    """Counts of (true, predicted) pairs, flattened row-major (k·k,)."""
    return torch.bincount(y * k + pred, minlength=k * k)


def class_tables(r: ClassificationReport) -> list[ReportTable]:
    """The per-class table (precision, recall, F1, support) and the confusion matrix."""
    return [_per_class_table(r), _confusion_table(r)]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


def _per_class_table(r: ClassificationReport) -> ReportTable:
    rows = [[c, f"{r.precision[i]:.3f}", f"{r.recall[i]:.3f}", f"{r.f1[i]:.3f}", str(int(r.support[i]))]
            for i, c in enumerate(r.classes)]
    return ReportTable("per class", ["class", "precision", "recall", "f1", "support"], rows)


def _confusion_table(r: ClassificationReport) -> ReportTable:
    rows = [[f"{i} {c}", *(str(int(v)) for v in r.confusion[i])] for i, c in enumerate(r.classes)]
    return ReportTable("confusion matrix", ["true \\ pred", *(str(i) for i in range(len(r.classes)))], rows)
