"""Matplotlib figures written to files (object API only: no global pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.figure import Figure


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
