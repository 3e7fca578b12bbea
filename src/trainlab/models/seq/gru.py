"""Gated recurrent unit (Cho et al. 2014), gate order r, z, n as nn.GRU."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainlab.models.seq.base import Cell, State


class GRUCell(Cell):
    """r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r * h_n);  h' = (1 - z) * n + z * h."""

    gates = 3

    def step(self, px: torch.Tensor, state: State) -> State:
        (h,) = state
        x_r, x_z, x_n = px.chunk(3, dim=-1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return ((1 - z) * n + z * h,)
