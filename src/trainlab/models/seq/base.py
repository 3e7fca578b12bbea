"""The hand-written cell contract: project all inputs at once, then recur one time step at a time."""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

State = tuple[torch.Tensor, ...]


class Cell(nn.Module):
    """One recurrent layer in one direction, with nn.RNN-style parameter shapes.

    `weight_ih` maps the input to `gates` blocks of `hidden_size`; `weight_hh` maps the previous
    state. The input part has no recurrence, so `project` runs it for every step in one matmul.
    """

    gates = 1
    num_states = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        g = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(g))
        self.bias_hh = nn.Parameter(torch.empty(g))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as PyTorch's recurrent layers."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Input contribution for every step: [B, T, input] → [B, T, gates*hidden]."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def init_state(self, batch: int, like: torch.Tensor) -> State:
        zeros = like.new_zeros(batch, self.hidden_size)
        return (zeros,) * self.num_states

    @abstractmethod
    def step(self, px: torch.Tensor, state: State) -> State:
        """Next state from one step's projected input [B, gates*hidden]; state[0] is the layer's output."""
