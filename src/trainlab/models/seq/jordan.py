"""Jordan cell: the layer's output, not its hidden state, feeds back.

PyTorch has no fused equivalent (nn.RNN feeds back h), so it exists only as a native cell.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.models.seq.base import Cell, State


class JordanCell(Cell):
    """h_t = tanh(W_ih x_t + b_ih + W_hh y_{t-1} + b_hh);  y_t = tanh(W_hy h_t + b_hy)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_hy = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_hy = nn.Parameter(torch.empty(hidden_size))
        bound = 1 / math.sqrt(hidden_size)
        nn.init.uniform_(self.weight_hy, -bound, bound)
        nn.init.uniform_(self.bias_hy, -bound, bound)

    def step(self, px: torch.Tensor, state: State) -> State:
        (y,) = state
        h = torch.tanh(px + F.linear(y, self.weight_hh, self.bias_hh))
        return (torch.tanh(F.linear(h, self.weight_hy, self.bias_hy)),)
