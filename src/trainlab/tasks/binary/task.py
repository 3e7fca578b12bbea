"""Binary classification: one logit, P(positive) = sigmoid(logit), the positive class being the dataset's second.

Trained with bce_with_logits; scored by accuracy at `task.threshold` and ROC-AUC (scikit-learn, on the
epoch's scores: one host sync per epoch, none per step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from trainlab.engine.optim import build_loss
from trainlab.engine.task import Batch, EvalOptions, Member, Stats
from trainlab.errors import ConfigError
from trainlab.report.figures import plot_confusion
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask
from trainlab.tasks.classification.task import ClassificationReport, class_tables, confusion_counts
from trainlab.tasks.registry import TASKS


@TASKS.register("binary")
class BinaryTask(ArrayTask):
    """Class labels of two classes, or one real target column of 0/1 values (a CSV's yes/no column)."""

    target_kinds = ("class", "real")
    metrics = ("loss", "acc", "auc")
    monitor = "acc"
    losses = ("bce_with_logits",)

    def setup(self) -> None:
        data, name = self.data, self.cfg.data.name
        if data.target_kind == "real":
            values = np.unique(np.concatenate([data.y_train.reshape(-1), data.y_test.reshape(-1)]))
            if len(data.targets) != 1 or not set(values.tolist()) <= {0.0, 1.0}:
                raise ConfigError(f"task binary needs one target column of 0/1 values; data.name={name} has "
                                  f"{len(data.targets)} column(s) with values like {values[:4].tolist()}",
                                  "use task=regression for real values (or data.target=<a 0/1 column>)")
            self.classes = [f"{data.targets[0]}=0", f"{data.targets[0]}=1"]
        elif data.num_classes != 2:
            raise ConfigError(f"task binary needs two classes; data.name={name} has {data.num_classes}",
                              "use task=classification (or data.toy.classes=2)")
        else:
            self.classes = data.classes
        self.loss_fn = build_loss(self.cfg.loss, self.loss_name())
        self.threshold = self.cfg.task.threshold

    def encode(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(len(y)).astype(np.float32)

    @property
    def num_outputs(self) -> int:
        return 1

    def decode(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        p = torch.sigmoid(out.float().squeeze(-1))
        return {"label": (p >= self.threshold).long(), "p_positive": p}

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        logit = model(x).squeeze(-1)
        loss = self.loss_fn(logit, y)
        n = torch.full((), len(y), device=y.device)
        p = torch.sigmoid(logit.detach().float())
        pred = (p >= self.threshold).long()
        label = y.long()
        stats = {"loss": loss.detach().float() * n, "correct": (pred == label).sum(), "count": n,
                 "score": [p], "label": [label]}
        if not model.training:
            stats["confusion"] = confusion_counts(label, pred, 2)
        return loss, stats

    def summarize(self, sums: Stats) -> dict[str, float]:
        count = max(float(sums["count"]), 1.0)
        return {"loss": float(sums["loss"]) / count, "acc": float(sums["correct"]) / count,
                "auc": roc_auc(torch.cat(sums["label"]).cpu().numpy(), torch.cat(sums["score"]).cpu().numpy())}

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/confusion.png at the threshold; plots/decision_boundary.png for 2-D inputs."""
        plot_confusion(_confusion(test), self.classes, run_dir.plots / "confusion.png",
                       title=f"{run_dir.path.name}: test, threshold {self.threshold:g}")
        self.plot_boundary(model, run_dir, self.classes)
        return {}

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str,
                 options: EvalOptions) -> ClassificationReport:
        """Loss, accuracy at the threshold, ROC-AUC, the per-class table and the confusion matrix."""
        member = members[0]
        sums = self.sums(member.model, split)
        m = self.summarize(sums)
        report = ClassificationReport(
            lines=[f"{member.name} [{split}, {checkpoint}]: loss {m['loss']:.4f}  acc {m['acc']:.4f} "
                   f"(threshold {self.threshold:g})  auc {m['auc']:.4f}"],
            metrics=m, split=split, classes=self.classes, loss=m["loss"], acc=m["acc"],
            confusion=_confusion(sums))
        report.tables = class_tables(report)
        self.predictions_file(member.model, split, options, report)
        return report


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of scores against 0/1 labels (NaN when one class is absent: it is undefined then)."""
    from sklearn.metrics import roc_auc_score  # imported here: scikit-learn is 0.7 s of a run's start-up

    return float(roc_auc_score(label, score)) if len(np.unique(label)) == 2 else math.nan


def _confusion(sums: Stats) -> np.ndarray:
    return sums["confusion"].view(2, 2).cpu().numpy()
