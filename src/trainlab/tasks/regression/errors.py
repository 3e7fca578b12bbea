"""Error statistics of real-valued predictions, summed per target over batches: RMSE, MAE and R².

R² per target is 1 − SSE/SST with SST = Σy² − (Σy)²/n (sums in float64 where the device has it), then
averaged over targets, as scikit-learn's `r2_score` (uniform average; a constant target scores 1.0
when predicted exactly, else 0.0).
"""

from __future__ import annotations

import math

import torch

from trainlab.engine.task import Stats


def error_sums(pred: torch.Tensor, y: torch.Tensor, dtype: torch.dtype) -> Stats:
    """Per-target sums of squared and absolute errors and of y and y² for (N, T) predictions and targets."""
    pred, y = pred.to(dtype), y.to(dtype)
    err = pred - y
    return {"sse": (err * err).sum(0), "sae": err.abs().sum(0), "sy": y.sum(0), "syy": (y * y).sum(0)}


def per_target(sums: Stats) -> dict[str, list[float]]:
    """RMSE, MAE and R² of each target."""
    n = max(float(sums["count"]), 1.0)
    sse, sae, sy, syy = (sums[k].double().cpu() for k in ("sse", "sae", "sy", "syy"))
    sst = syy - sy * sy / n
    r2 = [1.0 - e / t if t > 0 else (1.0 if e == 0 else 0.0) for e, t in zip(sse.tolist(), sst.tolist(), strict=True)]
    return {"rmse": (sse / n).sqrt().tolist(), "mae": (sae / n).tolist(), "r2": r2}


def error_metrics(sums: Stats) -> dict[str, float]:
    """RMSE and MAE over every target value, R² averaged over targets."""
    n = max(float(sums["count"]), 1.0)
    values = n * len(sums["sse"])
    r2 = per_target(sums)["r2"]
    return {"rmse": math.sqrt(float(sums["sse"].sum()) / values), "mae": float(sums["sae"].sum()) / values,
            "r2": sum(r2) / len(r2)}
