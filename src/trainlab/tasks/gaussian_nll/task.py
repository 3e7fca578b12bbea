"""Heteroscedastic regression: a mean and a log-variance per target, trained by Gaussian negative log-likelihood.

    NLL(y | μ, s) = ½ (log 2π + s + (y − μ)² e^(−s)),  s = log σ², clamped to [loss.min_logvar, loss.max_logvar]

The loss is the mean NLL of the standardised targets; the `nll` metric is the same in the targets' own
units (μ·std + mean, s + 2 log std). Calibration: the share of targets within 1σ and 2σ of the mean
(a calibrated Gaussian: 68.3% and 95.4%).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from trainlab.engine.optim import build_loss, gaussian_nll, mean_logvar
from trainlab.engine.task import Batch, ReportTable, Stats
from trainlab.runs import RunDir
from trainlab.tasks.arrays import sum_dtype
from trainlab.tasks.registry import TASKS
from trainlab.tasks.regression.errors import error_metrics, error_sums
from trainlab.tasks.regression.task import RegressionTask


@TASKS.register("gaussian_nll")
class GaussianNLLTask(RegressionTask):
    metrics = ("loss", "nll", "rmse", "mae", "r2", "in_1sd", "in_2sd")
    monitor = "nll"
    minimized = frozenset({"loss", "nll", "rmse", "mae"})
    losses = ("gaussian_nll",)

    def setup(self) -> None:
        self.fit_scaler()
        self.loss_fn = build_loss(self.cfg.loss, self.loss_name())

    @property
    def num_outputs(self) -> int:
        return 2 * self.num_targets

    def decode(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, logvar = mean_logvar(out, self.cfg.loss)
        mean, std = self.unscale(mean), torch.exp(0.5 * logvar) * self.y_std
        cols = {}
        for i, name in enumerate(self.data.targets):
            cols |= {f"{name}_mean": mean[:, i], f"{name}_std": std[:, i]}
        return cols

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        out = model(x)
        loss = self.loss_fn(out, y)
        n = torch.full((), len(y), device=y.device)
        mean, logvar = mean_logvar(out.detach(), self.cfg.loss)
        dtype = sum_dtype(self.device)
        nll = gaussian_nll(self.unscale(mean), logvar + 2 * torch.log(self.y_std), self.unscale(y))
        z = (y - mean).abs() * torch.exp(-0.5 * logvar)  # distance from the mean in predicted σ
        stats = {"loss": loss.detach() * n, "count": n, "nll": nll.to(dtype).sum(0),
                 "in_1sd": (z <= 1).sum(0), "in_2sd": (z <= 2).sum(0)}
        return loss, stats | error_sums(self.unscale(mean), self.unscale(y), dtype)

    def summarize(self, sums: Stats) -> dict[str, float]:
        n = max(float(sums["count"]), 1.0)
        values = n * self.num_targets
        return {"loss": float(sums["loss"]) / n, "nll": float(sums["nll"].sum()) / values} | error_metrics(sums) | {
            "in_1sd": float(sums["in_1sd"].sum()) / values, "in_2sd": float(sums["in_2sd"].sum()) / values}

    def tables(self, sums: Stats) -> list[ReportTable]:
        """Per target: the error table, with the NLL and the calibration beside it."""
        n = max(float(sums["count"]), 1.0)
        (table,) = super().tables(sums)
        table.columns += ["nll", "in 1σ (68.3%)", "in 2σ (95.4%)"]
        for i, row in enumerate(table.rows):
            row += [f"{float(sums['nll'][i]) / n:.4f}", f"{float(sums['in_1sd'][i]) / n:.3f}",
                    f"{float(sums['in_2sd'][i]) / n:.3f}"]
        return [table]

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/bands.png (1-D inputs: the mean with ±1σ/±2σ bands over the data) or plots/pred_vs_true.png."""
        self.plot_fit(model, run_dir, std="std")
        return {}
