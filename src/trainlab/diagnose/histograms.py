"""Weight and gradient histograms of every layer to TensorBoard."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def write_histograms(writer: Any, layers: list[tuple[str, nn.Parameter]], epoch: int) -> None:
    """weights/<layer> and grads/<layer> (the epoch's last step's gradient) at step `epoch`; a tensor with
    NaN or inf (which TensorBoard cannot bin) is left out."""
    for name, p in layers:
        for kind, t in (("weights", p), ("grads", p.grad)):
            if t is not None and bool(torch.isfinite(t).all()):
                writer.add_histogram(f"{kind}/{name}", _sample(t), epoch)
    writer.flush()


MAX_VALUES = 1 << 14  # an evenly strided sample this size draws the same histogram at a fraction of the cost


def _sample(t: torch.Tensor) -> torch.Tensor:
    flat = t.detach().flatten()
    return flat[:: max(1, flat.numel() // MAX_VALUES)].float().cpu()
