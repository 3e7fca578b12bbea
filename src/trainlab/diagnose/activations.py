"""Activation statistics per block on one fixed batch (eval mode, no grad): mean, std, dead units.

Blocks are the model's `diagnosis_blocks()` when it defines them, else its activation modules.
A unit (channel or feature) is dead when it is never positive on the batch, or, after a bounded
activation (tanh, sigmoid), when it sits at one end of the range for every example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

FIELDS = ("epoch", "block", "mean", "std", "dead_fraction")
ACTIVATION_TYPES = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)
BOUNDS: dict[type[nn.Module], tuple[float, float]] = {nn.Tanh: (-1.0, 1.0), nn.Sigmoid: (0.0, 1.0)}
SATURATION_MARGIN = 0.02  # within 2% of the range from a bound, a bounded unit passes (almost) no gradient


def named_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    blocks = getattr(model, "diagnosis_blocks", None)
    if callable(blocks):
        return blocks()
    return [(name, m) for name, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)]


def dead_units(y: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """Boolean per unit (dim 1 of `y`)."""
    dims = [d for d in range(y.ndim) if d != 1]
    high = y.amax(dim=dims)
    if type(module) in BOUNDS:
        lo, hi = BOUNDS[type(module)]
        margin = SATURATION_MARGIN * (hi - lo)
        return (high <= lo + margin) | (y.amin(dim=dims) >= hi - margin)
    return high <= 0


@torch.no_grad()
def activation_stats(model: nn.Module, forward: Callable[[], Any], epoch: int) -> tuple[list[dict[str, Any]], Any]:
    """Rows (epoch, block, mean, std, dead_fraction) of one eval-mode `forward()`, and the model's output."""
    blocks = named_blocks(model)
    stats: dict[str, torch.Tensor] = {}
    output: list[Any] = []

    def hook(name: str) -> Callable[[nn.Module, Any, Any], None]:
        def record(module: nn.Module, inputs: Any, y: Any) -> None:
            if isinstance(y, torch.Tensor) and y.ndim >= 2:
                std, mean = torch.std_mean(y.float())
                stats[name] = torch.stack([mean, std, dead_units(y, module).float().mean()])
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in blocks]
    handles.append(model.register_forward_hook(lambda module, inputs, y: output.append(y)))
    was_training = model.training
    model.eval()
    try:
        forward()
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    names = [name for name, _ in blocks if name in stats]
    values = torch.stack([stats[n] for n in names]).cpu().tolist() if names else []
    rows = [{"epoch": epoch, "block": n, "mean": m, "std": s, "dead_fraction": d}
            for n, (m, s, d) in zip(names, values, strict=True)]
    return rows, output[0] if output else None
