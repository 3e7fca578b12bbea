"""Figures of embeddings: a 2-D projection coloured by true label beside one panel per clustering."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from trainlab.report.figures import save

NOISE_COLOUR = "#bbbbbb"


def plot_clusters(xy: np.ndarray, panels: Sequence[tuple[str, np.ndarray]], path: Path, title: str = "",
                  axis_label: str = "PC") -> None:
    """One scatter of the (N, 2) points per (title, labels) panel, side by side; label -1 (noise) in grey."""
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.6 * cols, 4.2 * rows))
    for i, (name, labels) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        noise = labels < 0
        if noise.any():
            ax.scatter(xy[noise, 0], xy[noise, 1], s=4, c=NOISE_COLOUR, label="noise")
        kept = ~noise
        cmap = "tab10" if labels.max(initial=0) < 10 else "tab20"
        ax.scatter(xy[kept, 0], xy[kept, 1], s=4, c=labels[kept] % 20, cmap=cmap, vmin=0, vmax=9 if cmap ==
                   "tab10" else 19)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"{axis_label} 1")
        ax.set_ylabel(f"{axis_label} 2")
        ax.set_xticks([])
        ax.set_yticks([])
        if noise.any():
            ax.legend(loc="best", fontsize=7, markerscale=3)
    if title:
        fig.suptitle(title)
    save(fig, path)


def plot_views(rows: Sequence[tuple[str, np.ndarray]], path: Path, title: str = "") -> None:
    """A grid of images: one row per (name, (N, C, H, W) images in [0, 1]) entry, e.g. images and their views."""
    n = len(rows[0][1])
    fig = Figure(figsize=(1.1 * n + 0.8, 1.2 * len(rows) + 0.4))
    for r, (name, images) in enumerate(rows):
        for i, img in enumerate(images):
            ax = fig.add_subplot(len(rows), n, r * n + i + 1)
            pixels = np.clip(img.transpose(1, 2, 0), 0, 1)
            ax.imshow(pixels[..., 0] if pixels.shape[2] == 1 else pixels, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(name, fontsize=9)
    if title:
        fig.suptitle(title)
    save(fig, path)
