"""Diagnosis figures (matplotlib object API; one fresh Figure per file, nothing overlaid)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from trainlab.report.figures import save

Rows = Sequence[dict[str, Any]]


def by_epoch(rows: Rows, key: str, value: str) -> tuple[list[str], list[int], np.ndarray]:
    """(item names in first-seen order, epochs, values[epoch, item]) of long-format rows; NaN where absent."""
    names = list(dict.fromkeys(str(r[key]) for r in rows))
    epochs = sorted({int(r["epoch"]) for r in rows})
    grid = np.full((len(epochs), len(names)), np.nan)
    col, row = {n: i for i, n in enumerate(names)}, {e: i for i, e in enumerate(epochs)}
    for r in rows:
        grid[row[int(r["epoch"])], col[str(r[key])]] = float(r[value])
    return names, epochs, grid


def positive(a: np.ndarray) -> np.ndarray:
    """Values a log axis can show (zeros and negatives become gaps)."""
    return np.where(a > 0, a, np.nan)


def epoch_lines(ax: Axes, names: list[str], epochs: list[int], grid: np.ndarray, log: bool,
                max_ticks: int = 40) -> None:
    """One line per epoch over the items, coloured from early (dark) to late (bright)."""
    cmap = colormaps["viridis"]
    for i, epoch in enumerate(epochs):
        colour = cmap(i / max(len(epochs) - 1, 1))
        ax.plot(range(len(names)), positive(grid[i]) if log else grid[i], marker="o", markersize=2.5,
                color=colour, label=f"epoch {epoch}")
    if log:
        ax.set_yscale("log")
    step = max(1, math.ceil(len(names) / max_ticks))
    ax.set_xticks(range(0, len(names), step), names[::step], rotation=90, fontsize=6)
    ax.grid(alpha=0.3)
    if len(epochs) <= 12:
        ax.legend(fontsize=7)


def plot_gradflow(rows: Rows, path: Path, title: str = "") -> None:
    """Mean and max |grad| per layer, one line per epoch, log scale."""
    fig = Figure(figsize=(max(8.0, 0.22 * len({r["layer"] for r in rows})), 7))
    for i, (value, label) in enumerate((("mean_abs_grad", "mean |grad|"), ("max_abs_grad", "max |grad|"))):
        ax = fig.add_subplot(2, 1, i + 1)
        names, epochs, grid = by_epoch(rows, "layer", value)
        epoch_lines(ax, names, epochs, grid, log=True)
        ax.tick_params(labelbottom=i == 1)
        ax.set_ylabel(label)
    fig.suptitle(f"gradient flow {title}".strip())
    save(fig, path)


def plot_gradflow_heatmap(rows: Rows, path: Path, title: str = "") -> None:
    """log10 mean |grad|, layers × epochs."""
    names, epochs, grid = by_epoch(rows, "layer", "mean_abs_grad")
    fig = Figure(figsize=(3 + 0.35 * len(epochs), 2 + 0.18 * len(names)))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.log10(positive(grid.T)), aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_xticks(range(len(epochs)), [str(e) for e in epochs], fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_xlabel("epoch")
    fig.colorbar(image, ax=ax, label="log10 mean |grad|")
    ax.set_title(f"gradient flow {title}".strip())
    save(fig, path)


def plot_activations(rows: Rows, path: Path, title: str = "") -> None:
    """Mean, std (log) and dead fraction per block, one line per epoch."""
    fig = Figure(figsize=(max(8.0, 0.25 * len({r["block"] for r in rows})), 9))
    panels = (("mean", "mean", False), ("std", "std", True), ("dead_fraction", "dead units (fraction)", False))
    for i, (value, label, log) in enumerate(panels):
        ax = fig.add_subplot(3, 1, i + 1)
        names, epochs, grid = by_epoch(rows, "block", value)
        epoch_lines(ax, names, epochs, grid, log=log)
        ax.tick_params(labelbottom=i == len(panels) - 1)
        ax.set_ylabel(label)
    ax.set_ylim(-0.02, 1.02)  # the dead fraction's full range
    fig.suptitle(f"activations on a fixed batch {title}".strip())
    save(fig, path)


def plot_filters(filters: np.ndarray, path: Path, title: str = "") -> None:
    """An image grid of (N, H, W) or (N, H, W, 3) filters, each scaled to its own range, one pixel apart."""
    n, h, w = filters.shape[:3]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    low = filters.min(axis=(1, 2), keepdims=True)
    high = filters.max(axis=(1, 2), keepdims=True)
    scaled = (filters - low) / (high - low + 1e-12)
    grid = np.ones((rows * (h + 1) + 1, cols * (w + 1) + 1, *filters.shape[3:]))
    for i, f in enumerate(scaled):
        r, c = divmod(i, cols)
        grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = f
    fig = Figure(figsize=(min(0.5 + 0.1 * grid.shape[1], 10), min(0.8 + 0.1 * grid.shape[0], 10)))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"first-layer filters ({n}) {title}".strip(), fontsize=9)
    save(fig, path)
