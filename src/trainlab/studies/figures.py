"""Figures over several runs: curves with mean ± std bands, gradient flow side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure

from trainlab.diagnose.figures import by_epoch, epoch_lines
from trainlab.report.figures import save
from trainlab.studies.aggregate import Band


def plot_bands(panels: dict[str, dict[str, Band]], path: Path, title: str = "") -> None:
    """One panel per metric; in each, one line per label with a ±1 std band."""
    fig = Figure(figsize=(5 * max(len(panels), 1), 3.8))
    labels = list(dict.fromkeys(label for lines in panels.values() for label in lines))
    cmap = colormaps["tab10"]
    for i, (metric, lines) in enumerate(panels.items()):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for label, band in lines.items():
            colour = cmap(labels.index(label) % 10)
            ax.plot(band.epochs, band.mean, marker="o", markersize=3, color=colour, label=label)
            ax.fill_between(band.epochs, band.mean - band.std, band.mean + band.std, color=colour, alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    save(fig, path)


def plot_gradflow_grid(panels: dict[str, Sequence[dict[str, Any]]], path: Path, title: str = "") -> None:
    """Each label's gradient flow (mean |grad| per layer, one line per epoch) side by side, shared log axis."""
    cols = min(len(panels), 4) or 1
    rows_of_panels = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.5 * cols, 4.6 * rows_of_panels), layout="constrained")  # no label under a title
    first = None
    for i, (label, rows) in enumerate(panels.items()):
        ax = fig.add_subplot(rows_of_panels, cols, i + 1, sharey=first)
        first = first or ax
        names, epochs, grid = by_epoch(rows, "layer", "mean_abs_grad")
        epoch_lines(ax, names, epochs, grid, log=True, max_ticks=12)
        ax.set_title(label, fontsize=9)
    if first is not None:
        first.set_ylabel("mean |grad|")
    if title:
        fig.suptitle(title)
    save(fig, path)
