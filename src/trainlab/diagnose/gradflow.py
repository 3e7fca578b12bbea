"""Gradient flow: per-layer mean and max |grad|, accumulated on the device over an epoch.

A layer is a parameter with ndim > 1 (a weight), named by its module path, in registration order
(forward order for trainlab's models). Each sampled step costs a few fused ops and no host sync;
the rows leave the device once per epoch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

FIELDS = ("epoch", "layer", "mean_abs_grad", "max_abs_grad")


def weight_layers(module: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """(module path, weight) of every trainable parameter with ndim > 1."""
    return [(name.removesuffix(".weight"), p) for name, p in module.named_parameters()
            if p.requires_grad and p.ndim > 1]


class GradientFlow:
    """Sums each layer's mean |grad| and keeps its max |grad| over the steps sampled in an epoch."""

    def __init__(self, module: nn.Module) -> None:
        layers = weight_layers(module)
        self.names = [name for name, _ in layers]
        self.params = [p for _, p in layers]
        device = self.params[0].device if self.params else torch.device("cpu")
        self.inv_numel = 1.0 / torch.tensor([p.numel() for p in self.params], dtype=torch.float32, device=device)
        self._zero = torch.zeros((), device=device)
        self.reset()

    def reset(self) -> None:
        self.mean_sum = torch.zeros_like(self.inv_numel)
        self.max = torch.zeros_like(self.inv_numel)
        self.samples = 0

    @torch.no_grad()
    def update(self, scale: float = 1.0) -> None:
        """Record the current .grad of every layer (divided by `scale`, the loss scale under fp16)."""
        if not self.params:
            return
        grads = [p.grad if p.grad is not None else self._zero for p in self.params]
        sums = torch.stack(torch._foreach_norm(grads, 1)).float()
        maxes = torch.stack(torch._foreach_max(torch._foreach_abs(grads))).float()
        if scale != 1.0:
            sums, maxes = sums / scale, maxes / scale
        self.mean_sum.addcmul_(sums, self.inv_numel)
        torch.maximum(self.max, maxes, out=self.max)
        self.samples += 1

    def rows(self, epoch: int) -> list[dict[str, Any]]:
        """One row per layer: mean over the sampled steps of mean |grad|, and max |grad|."""
        means, maxes = torch.stack([self.mean_sum / max(self.samples, 1), self.max]).cpu().tolist()
        return [{"epoch": epoch, "layer": name, "mean_abs_grad": m, "max_abs_grad": x}
                for name, m, x in zip(self.names, means, maxes, strict=True)]
