"""Regression: inputs → one real value per target, trained with mse / l1 / huber.

Targets are standardised with the train split's mean and std (`task.standardize`: without it large
targets make large gradients, which explode), and every metric, prediction and figure is in the
targets' own units. The loss is reported as trained (standardised units).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from trainlab.data.base import target_stats
from trainlab.engine.optim import build_loss
from trainlab.engine.task import Batch, ReportTable, Stats
from trainlab.report.figures import plot_pred_vs_true, plot_regression_bands
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask, sum_dtype
from trainlab.tasks.registry import TASKS
from trainlab.tasks.regression.errors import error_metrics, error_sums, per_target


@TASKS.register("regression")
class RegressionTask(ArrayTask):
    target_kinds = ("real",)
    metrics = ("loss", "rmse", "mae", "r2")
    monitor = "rmse"
    minimized = frozenset({"loss", "rmse", "mae"})
    losses = ("mse", "l1", "huber")

    def setup(self) -> None:
        self.fit_scaler()
        self.loss_fn = build_loss(self.cfg.loss, self.loss_name())

    def fit_scaler(self) -> None:
        """The targets' train mean and std (0 and 1 without task.standardize)."""
        y = self.data.y_train.reshape(len(self.data.y_train), -1)
        mean, std = target_stats(y) if self.cfg.task.standardize else (np.zeros(y.shape[1]), np.ones(y.shape[1]))
        self.y_mean, self.y_std = (torch.as_tensor(a, dtype=torch.float32, device=self.device) for a in (mean, std))

    @property
    def num_targets(self) -> int:
        return len(self.data.targets)

    @property
    def num_outputs(self) -> int:
        return self.num_targets

    def encode(self, y: np.ndarray) -> np.ndarray:
        """(N, T) targets, standardised."""
        mean, std = self.y_mean.cpu().numpy(), self.y_std.cpu().numpy()
        return ((y.reshape(len(y), -1) - mean) / std).astype(np.float32)

    def unscale(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised values back in the targets' units."""
        return z * self.y_std + self.y_mean

    def decode(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        pred = self.unscale(out.float())
        return {name: pred[:, i] for i, name in enumerate(self.data.targets)}

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        out = model(x).float()
        loss = self.loss_fn(out, y)
        n = torch.full((), len(y), device=y.device)
        stats = {"loss": loss.detach() * n, "count": n}
        return loss, stats | error_sums(self.unscale(out.detach()), self.unscale(y), sum_dtype(self.device))

    def summarize(self, sums: Stats) -> dict[str, float]:
        return {"loss": float(sums["loss"]) / max(float(sums["count"]), 1.0)} | error_metrics(sums)

    def tables(self, sums: Stats) -> list[ReportTable]:
        """RMSE, MAE and R² per target (in the targets' units)."""
        each = per_target(sums)
        rows = [[name, *(f"{each[k][i]:.4f}" for k in ("rmse", "mae", "r2"))]
                for i, name in enumerate(self.data.targets)]
        return [ReportTable("per target", ["target", "rmse", "mae", "r2"], rows)]

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/predictions.png (1-D inputs: the fit over the data) or plots/pred_vs_true.png (test split)."""
        self.plot_fit(model, run_dir, std=None)
        return {}

    def plot_fit(self, model: nn.Module, run_dir: RunDir, std: str | None) -> None:
        """The test predictions against the data: over x for one 1-D target (with ±1σ/±2σ bands when the decoded
        column `std` of a target is named: "{target}_{std}"), else predicted against true per target."""
        cols = self.predict(model, "test")
        x, _ = self.data.split("test")
        y = self.data.y_test.reshape(len(x), -1)
        names = self.data.targets
        means = np.stack([cols[n if std is None else f"{n}_mean"] for n in names], axis=1)
        title = f"{run_dir.path.name}: test"
        if self.data.input_shape == (1,) and len(names) == 1:
            band = cols[f"{names[0]}_{std}"] if std is not None else None
            x = x * self.data.std + self.data.mean
            plot_regression_bands(x, y, means, band, run_dir.plots / ("bands.png" if std else "predictions.png"), title)
        else:
            plot_pred_vs_true(y, means, names, run_dir.plots / "pred_vs_true.png", title)
