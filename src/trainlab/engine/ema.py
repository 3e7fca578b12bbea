"""An exponential moving average of the weights (train.ema_decay): validated, checkpointed and tested in place of
the last step's weights, which keep training. Averaging the weights of the last few hundred steps smooths the
noise of the final steps (timm's ModelEma, airbench's lookahead); batch-norm statistics are averaged alike.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightEMA:
    """`module`'s floating-point parameters and buffers averaged over the steps (a copy in eval mode); integer
    buffers (batch norm's step count) follow the live module."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        live, avg = module.state_dict(), self.module.state_dict()  # aliases of the tensors, updated in place
        self.floats = [avg[k] for k in avg if avg[k].is_floating_point()]
        self.live_floats = [live[k] for k in avg if avg[k].is_floating_point()]
        self.others = [avg[k] for k in avg if not avg[k].is_floating_point()]
        self.live_others = [live[k] for k in avg if not avg[k].is_floating_point()]

    def rate(self, step: int) -> float:
        """The weight of the newest weights after optimizer step `step` (1-based): 1 − min(decay, (1+t)/(10+t)).
        The warm-up lets the average forget the first steps' weights quickly."""
        return 1 - min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average toward the live weights after optimizer step `step`: avg += rate · (live − avg)."""
        torch._foreach_lerp_(self.floats, self.live_floats, self.rate(step))
        if self.others:
            torch._foreach_copy_(self.others, self.live_others)
