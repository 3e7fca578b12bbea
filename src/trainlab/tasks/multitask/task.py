"""Multi-task classification: several class heads (the dataset's, e.g. class and colour) on one input.

`task.trunk=shared`: one model whose last layer has every head's outputs side by side (each group of
its rows is that head's linear head on the shared trunk); `separate`: one model per head (PerHead).
Each head has its own loss and weight (`task.heads.<head>`); the objective is the weighted sum.
Metrics: `acc` (every head right), and `<head>_acc`, `<head>_loss` per head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.config.tasks import HeadOptions
from trainlab.engine.optim import LossFn, build_loss
from trainlab.engine.task import Batch, ReportTable, Stats
from trainlab.errors import ConfigError
from trainlab.models import build_model
from trainlab.models.heads import PerHead
from trainlab.report.figures import plot_confusion
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask
from trainlab.tasks.classification.task import ClassificationTask, confusion_counts
from trainlab.tasks.registry import TASKS


@TASKS.register("multitask")
class MultitaskTask(ArrayTask):
    target_kinds = ("multihead",)
    monitor = "acc"
    losses = ClassificationTask.losses

    def setup(self) -> None:
        self.heads = self.data.heads
        options = self.cfg.task.heads
        if unknown := sorted(set(options) - set(self.heads)):
            raise ConfigError(f"task.heads names {', '.join(unknown)}, not a head of data.name={self.cfg.data.name}",
                              f"its heads are: {', '.join(self.heads)}")
        self.sizes = [len(classes) for classes in self.heads.values()]
        self.head_options = [options.get(h, HeadOptions()) for h in self.heads]
        self.loss_fns: list[LossFn] = [build_loss(self.cfg.loss, self.loss_name(o.loss)) for o in self.head_options]
        self.metrics = ("loss", "acc", *(f"{h}_acc" for h in self.heads), *(f"{h}_loss" for h in self.heads))
        self.minimized = frozenset({"loss", *(f"{h}_loss" for h in self.heads)})

    @property
    def num_outputs(self) -> int:
        return sum(self.sizes)

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        cfg = cfg or self.cfg
        if cfg.task.trunk == "shared":
            return super().build_model(cfg)
        return PerHead([build_model(cfg.model, self.data.input_shape, k) for k in self.sizes])

    def decode(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        return {h: logits.argmax(dim=-1) for h, logits in zip(self.heads, out.split(self.sizes, dim=-1), strict=True)}

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        n = torch.full((), len(y), device=y.device)
        stats: Stats = {"count": n}
        total: torch.Tensor | None = None
        all_right = torch.ones(len(y), dtype=torch.bool, device=y.device)
        for i, (h, logits) in enumerate(zip(self.heads, model(x).split(self.sizes, dim=-1), strict=True)):
            loss = self.loss_fns[i](logits, y[:, i])
            weighted = self.head_options[i].weight * loss
            total = weighted if total is None else total + weighted
            pred = logits.argmax(dim=-1)
            right = pred == y[:, i]
            all_right &= right
            stats |= {f"{h}_loss": loss.detach().float() * n, f"{h}_correct": right.sum()}
            if not model.training:
                stats[f"{h}_confusion"] = confusion_counts(y[:, i], pred, self.sizes[i])
        assert total is not None
        return total, stats | {"loss": total.detach().float() * n, "correct": all_right.sum()}

    def summarize(self, sums: Stats) -> dict[str, float]:
        n = max(float(sums["count"]), 1.0)
        out = {"loss": float(sums["loss"]) / n, "acc": float(sums["correct"]) / n}
        out |= {f"{h}_acc": float(sums[f"{h}_correct"]) / n for h in self.heads}
        return out | {f"{h}_loss": float(sums[f"{h}_loss"]) / n for h in self.heads}

    def tables(self, sums: Stats) -> list[ReportTable]:
        n = max(float(sums["count"]), 1.0)
        rows = [[h, str(self.sizes[i]), f"{self.head_options[i].weight:g}", f"{float(sums[f'{h}_loss']) / n:.4f}",
                 f"{float(sums[f'{h}_correct']) / n:.4f}"] for i, h in enumerate(self.heads)]
        rows.append(["all heads", "", "", f"{float(sums['loss']) / n:.4f}", f"{float(sums['correct']) / n:.4f}"])
        return [ReportTable("per head", ["head", "classes", "weight", "loss", "acc"], rows)]

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/confusion_<head>.png per head (test split)."""
        for (h, classes), k in zip(self.heads.items(), self.sizes, strict=True):
            plot_confusion(test[f"{h}_confusion"].view(k, k).cpu().numpy(), classes,
                           run_dir.plots / f"confusion_{h}.png", title=f"{run_dir.path.name}: test, {h}")
        return {}
