"""Long short-term memory (Hochreiter & Schmidhuber 1997), gate order i, f, g, o as nn.LSTM."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainlab.models.seq.base import Cell, State


class LSTMCell(Cell):
    """c' = σ(f) * c + σ(i) * tanh(g);  h' = σ(o) * tanh(c').  State (h, c)."""

    gates = 4
    num_states = 2

    def step(self, px: torch.Tensor, state: State) -> State:
        h, c = state
        i, f, g, o = (px + F.linear(h, self.weight_hh, self.bias_hh)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
