"""PER-HEAD models: one model per output group, their outputs concatenated (multi-task with separate trunks)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class PerHead(nn.Module):
    """Models of one input, each giving one head's outputs; forward concatenates them in order."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self.members], dim=-1)
