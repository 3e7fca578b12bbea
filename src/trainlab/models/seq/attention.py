"""ATTENTION: none, additive (Bahdanau et al. 2015) and multiplicative (Luong et al. 2015).

Additive attention is queried with the decoder's previous state and its context is fed into the
recurrent input (Bahdanau). Multiplicative attention is queried with the current output and its
context joins the output layer (Luong), so a teacher-forced decoder runs its recurrence in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from trainlab.registry import Registry


@dataclass
class Memory:
    """What a decoder attends to: encoder outputs [B, S, E], their keys, and valid positions [B, S]."""

    values: torch.Tensor
    mask: torch.Tensor
    keys: torch.Tensor | None = None

    def select(self, index: torch.Tensor) -> Memory:
        """Rows `index` of the batch (finished sequences dropped, beams expanded)."""
        keys = None if self.keys is None else self.keys.index_select(0, index)
        return replace(self, values=self.values.index_select(0, index), mask=self.mask.index_select(0, index),
                       keys=keys)


class Attention(nn.Module):
    """Queries [B, T, H] → contexts [B, T, E]: softmax-weighted sums of the memory's values."""

    #: the context is computed from the previous state and fed into the recurrent input
    feeds_input = False

    def __init__(self, query_size: int, value_size: int) -> None:
        super().__init__()
        self.context_size = value_size

    def keys(self, values: torch.Tensor) -> torch.Tensor | None:
        """Per-memory precomputation, done once per source sequence."""
        return None

    def scores(self, query: torch.Tensor, memory: Memory) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, query: torch.Tensor, memory: Memory) -> torch.Tensor:
        scores = self.scores(query, memory).masked_fill(~memory.mask[:, None, :], float("-inf"))
        return torch.bmm(torch.softmax(scores, dim=-1), memory.values)


class NoAttention(Attention):
    """No context: the decoder sees the source only through its initial state."""

    def __init__(self, query_size: int, value_size: int) -> None:
        super().__init__(query_size, 0)

    def forward(self, query: torch.Tensor, memory: Memory) -> torch.Tensor:
        return query.new_zeros(*query.shape[:2], 0)


class AdditiveAttention(Attention):
    """score(q, k) = v · tanh(W_q q + W_k k)."""

    feeds_input = True

    def __init__(self, query_size: int, value_size: int) -> None:
        super().__init__(query_size, value_size)
        self.w_query = nn.Linear(query_size, query_size, bias=False)
        self.w_key = nn.Linear(value_size, query_size)
        self.v = nn.Linear(query_size, 1, bias=False)

    def keys(self, values: torch.Tensor) -> torch.Tensor:
        return self.w_key(values)

    def scores(self, query: torch.Tensor, memory: Memory) -> torch.Tensor:
        assert memory.keys is not None
        hidden = torch.tanh(self.w_query(query)[:, :, None, :] + memory.keys[:, None, :, :])
        return self.v(hidden).squeeze(-1)


class MultiplicativeAttention(Attention):
    """score(q, k) = q · W k  (Luong's "general" score)."""

    def __init__(self, query_size: int, value_size: int) -> None:
        super().__init__(query_size, value_size)
        self.w_key = nn.Linear(value_size, query_size, bias=False)

    def keys(self, values: torch.Tensor) -> torch.Tensor:
        return self.w_key(values)

    def scores(self, query: torch.Tensor, memory: Memory) -> torch.Tensor:
        assert memory.keys is not None
        return torch.bmm(query, memory.keys.transpose(1, 2))


ATTENTION: Registry[type[Attention]] = Registry("attention")
ATTENTION.register("none")(NoAttention)
ATTENTION.register("additive")(AdditiveAttention)
ATTENTION.register("multiplicative")(MultiplicativeAttention)
