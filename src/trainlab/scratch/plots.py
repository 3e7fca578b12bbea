"""Figures of a scratch run, drawn with matplotlib's object API (no pyplot state)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trainlab.scratch.solver import EpochStats


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_curves(history: Sequence[EpochStats], path: Path, title: str = "") -> None:
    """Train and validation loss (left) and accuracy (right) per epoch."""
    fig = Figure(figsize=(10, 4))
    epochs = [s.epoch for s in history]
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "acc"), strict=True):
        for split in ("train", "val"):
            ax.plot(epochs, [getattr(s, f"{split}_{metric}") for s in history], marker="o", label=split)
        ax.set(xlabel="epoch", ylabel=metric, title=f"{title} {metric}".strip())
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def filter_images(w: np.ndarray, input_shape: tuple[int, ...], limit: int = 64) -> np.ndarray | None:
    """First-layer weights as images ``(K, H, W, C)``, each scaled to [0, 1]: conv filters
    ``(F, C, k, k)`` directly, dense weights ``(D, H)`` with image inputs one hidden unit
    (column) per image. None when the weights are not images (non-image inputs)."""
    if w.ndim == 4:
        imgs = w.transpose(0, 2, 3, 1)
    elif len(input_shape) == 3:
        imgs = w.T.reshape(-1, *input_shape).transpose(0, 2, 3, 1)
    else:
        return None
    imgs = imgs[:limit].astype(np.float64)
    lo = imgs.min(axis=(1, 2, 3), keepdims=True)
    hi = imgs.max(axis=(1, 2, 3), keepdims=True)
    return (imgs - lo) / np.maximum(hi - lo, 1e-12)


def image_grid(imgs: np.ndarray, pad: int = 1) -> np.ndarray:
    """Tile ``(K, H, W, C)`` into one near-square ``(rows*(H+pad), cols*(W+pad), C)`` image."""
    K, H, W, C = imgs.shape
    cols = math.ceil(math.sqrt(K))
    rows = math.ceil(K / cols)
    grid = np.ones((rows * (H + pad) + pad, cols * (W + pad) + pad, C))
    for k, img in enumerate(imgs):
        r, c = divmod(k, cols)
        grid[pad + r * (H + pad) : (r + 1) * (H + pad), pad + c * (W + pad) : (c + 1) * (W + pad)] = img
    return grid


def plot_filters(w: np.ndarray, input_shape: tuple[int, ...], path: Path, title: str = "first-layer weights") -> None:
    """An image grid of the first layer's filters; a heatmap when they are not images."""
    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    imgs = filter_images(w, input_shape)
    if imgs is None:
        fig.colorbar(ax.imshow(w, cmap="coolwarm", aspect="auto", interpolation="nearest"), ax=ax)
        ax.set(xlabel="unit", ylabel="input feature")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        grid = image_grid(imgs)
        ax.imshow(grid if grid.shape[2] == 3 else grid.mean(axis=2), cmap="gray", interpolation="nearest")
        ax.axis("off")
    ax.set_title(title)
    _save(fig, path)
