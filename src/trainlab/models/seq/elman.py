"""Elman cell: the hidden state feeds back. Same maths as nn.RNN(nonlinearity='tanh')."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainlab.models.seq.base import Cell, State


class ElmanCell(Cell):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""

    def step(self, px: torch.Tensor, state: State) -> State:
        (h,) = state
        return (torch.tanh(px + F.linear(h, self.weight_hh, self.bias_hh)),)
