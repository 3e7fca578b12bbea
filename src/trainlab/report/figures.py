"""Matplotlib figures written to files (object API only: no global pyplot state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

GRID = 200  # decision-boundary grid points per axis


def save(fig: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def plot_curves(rows: Sequence[dict[str, float | str]], path: Path, title: str = "") -> None:
    """Train/val loss and accuracy per epoch (any metric pair train_X / val_X gets a panel)."""
    keys = [k[len("train_"):] for k in (rows[0] if rows else {}) if k.startswith("train_")]
    fig = Figure(figsize=(5 * max(len(keys), 1), 3.8))
    epochs = [float(r["epoch"]) for r in rows]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        for split in ("train", "val"):
            values = [r.get(f"{split}_{key}") for r in rows]
            if all(isinstance(v, float) for v in values):
                ax.plot(epochs, values, marker="o", markersize=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    save(fig, path)


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: Path, title: str = "") -> None:
    """Row-normalised confusion matrix with counts."""
    k = len(classes)
    fig = Figure(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    ax = fig.add_subplot(1, 1, 1)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 20:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_title(title or "confusion matrix")
    save(fig, path)


def _class_indices(out: np.ndarray) -> np.ndarray:
    """Indices from class indices (M,), P(class 1) (M,) floats, or scores/probabilities (M, K)."""
    out = np.asarray(out)
    if out.ndim == 2:
        return out.argmax(axis=1)
    return (out >= 0.5).astype(np.int64) if np.issubdtype(out.dtype, np.floating) else out.astype(np.int64)


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, path: Path,
                           classes: Sequence[str] | None = None, title: str = "") -> None:
    """Predicted class over the 2-D data's bounding box (10% margin, GRID×GRID), the points on top by label.

    `predict` maps an (M, 2) float32 grid to class indices (M,), P(class 1) (M,) or probabilities (M, K).
    """
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    xs, ys = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], GRID) for i in range(2))
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    z = _class_indices(predict(grid)).reshape(gx.shape)
    k = len(classes) if classes else int(max(z.max(), y.max())) + 1
    cmap = ListedColormap(matplotlib.colormaps["tab10"].colors[:k] if k <= 10
                          else matplotlib.colormaps["turbo"](np.linspace(0, 1, k)))
    fig = Figure(figsize=(5.5, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    ax.contourf(gx, gy, z, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35)
    for c in range(k):
        mask = y == c
        if mask.any():
            ax.scatter(x[mask, 0], x[mask, 1], s=10, color=cmap(c), edgecolors="black", linewidths=0.3,
                       label=classes[c] if classes else str(c))
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.legend(loc="best", fontsize=7)
    ax.set_title(title or "decision boundary")
    save(fig, path)


def plot_regression_bands(x: np.ndarray, y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, path: Path,
                          title: str = "") -> None:
    """1-D regression: the data points, the predicted mean, and shaded ±1σ and ±2σ bands when `std` is given
    (all sorted by x)."""
    x, y, mean = (np.asarray(a, np.float64).reshape(-1) for a in (x, y, mean))
    order = np.argsort(x)
    x, y, mean = x[order], y[order], mean[order]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot(1, 1, 1)
    if std is not None:
        std = np.asarray(std, np.float64).reshape(-1)[order]
        ax.fill_between(x, mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.15, linewidth=0, label="±2σ")
        ax.fill_between(x, mean - std, mean + std, color="tab:blue", alpha=0.3, linewidth=0, label="±1σ")
    ax.scatter(x, y, s=6, color="black", alpha=0.5, label="data")
    ax.plot(x, mean, color="tab:blue", linewidth=1.5, label="mean" if std is not None else "prediction")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title or ("prediction with uncertainty" if std is not None else "prediction"))
    save(fig, path)


def plot_pred_vs_true(y: np.ndarray, pred: np.ndarray, names: Sequence[str], path: Path, title: str = "") -> None:
    """Predicted against true value, one panel per target, with the diagonal of perfect predictions."""
    y, pred = (np.asarray(a, np.float64).reshape(len(a), -1) for a in (y, pred))
    fig = Figure(figsize=(4 * len(names), 4))
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        lo, hi = min(y[:, i].min(), pred[:, i].min()), max(y[:, i].max(), pred[:, i].max())
        ax.plot([lo, hi], [lo, hi], color="gray", linewidth=1, linestyle="--")
        ax.scatter(y[:, i], pred[:, i], s=8, alpha=0.6)
        ax.set_xlabel(f"true {name}")
        ax.set_ylabel(f"predicted {name}")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    save(fig, path)


def plot_lr_find(lrs: Sequence[float], losses: Sequence[float], smoothed: Sequence[float], suggestion: float,
                 path: Path, title: str = "") -> None:
    """The learning-rate range test: loss per step against its learning rate (log x), raw and smoothed, the
    suggested rate marked."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(lrs, losses, color="tab:blue", alpha=0.3, linewidth=1, label="loss")
    ax.plot(lrs, smoothed, color="tab:blue", linewidth=1.8, label="smoothed loss")
    at = float(np.interp(np.log(suggestion), np.log(lrs), smoothed))
    ax.axvline(suggestion, color="tab:red", linestyle="--", linewidth=1)
    ax.plot([suggestion], [at], "o", color="tab:red", label=f"suggested lr {suggestion:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    low, first = min(losses), smoothed[0]  # the diverged tail would flatten the rest: cut at 1.5 × the start
    ax.set_ylim(low - 0.05 * abs(first - low), first + 0.5 * abs(first - low) + 0.05 * abs(first))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or "learning-rate range test")
    save(fig, path)


def plot_overlaid_curves(series: dict[str, Sequence[dict[str, float | str]]]) -> Figure:
    """Several runs' metrics per epoch on shared panels, one per metric (validation solid, training dashed), one
    colour per run."""
    names = list(dict.fromkeys(k.partition("_")[2] for rows in series.values() for r in rows[:1] for k in r
                               if k.startswith(("train_", "val_"))))
    cols = min(len(names), 3) or 1
    fig = Figure(figsize=(5 * cols, 3.6 * max(-(-len(names) // cols), 1) + 0.3 * min(len(series), 12) / cols))
    n = len(series)
    colours = [matplotlib.colormaps["tab10"](i) for i in range(n)] if n <= 10 \
        else matplotlib.colormaps["turbo"](np.linspace(0, 1, n))
    for i, name in enumerate(names):
        ax = fig.add_subplot(-(-len(names) // cols), cols, i + 1)
        for colour, (label, rows) in zip(colours, series.items(), strict=True):
            epochs = [float(r["epoch"]) for r in rows]
            for split, style in (("val", "-"), ("train", "--")):
                values = [r.get(f"{split}_{name}") for r in rows]
                if values and all(isinstance(v, float) for v in values):
                    ax.plot(epochs, values, style, color=colour, marker="o", markersize=2.5, label=label)
                    label = None  # one legend entry per run
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if max((float(r["epoch"]) for rows in series.values() for r in rows), default=1) <= 1:
            ax.set_xlim(0.5, 1.5)  # one epoch: one tick, not a tick per 0.1 around it
            ax.set_xticks([1])
        ax.set_ylabel(name)
        ax.set_title(f"{name} (validation solid, training dashed)", fontsize=9)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7, ncol=1 + len(series) // 12)
    return fig


def plot_reconstructions(inputs: np.ndarray, outputs: np.ndarray, path: Path, title: str = "") -> None:
    """Images (N, C, H, W) in [0, 1]: the inputs in the top row, their reconstructions below."""
    n = len(inputs)
    fig = Figure(figsize=(1.2 * n, 2.6))
    for row, images in enumerate((inputs, outputs)):
        for i, image in enumerate(images):
            ax = fig.add_subplot(2, n, row * n + i + 1)
            pixels = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            ax.imshow(pixels, cmap="gray" if image.shape[0] == 1 else None, vmin=0, vmax=1)
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    save(fig, path)
