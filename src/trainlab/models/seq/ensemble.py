"""ENSEMBLE of encoder-decoders: the mean of the members' next-character probabilities.

Each member keeps its own memory and decoder state; at every step the ensemble returns
log(mean_i softmax(logits_i)), so greedy decoding, beam search and teacher-forced scoring
work on it unchanged (a log-probability vector is its own log-softmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from trainlab.models.ensemble import Ensemble, mean_probs


@dataclass
class EnsembleMemory:
    """One memory per member, selected together."""

    members: tuple[Any, ...]

    def select(self, index: torch.Tensor) -> EnsembleMemory:
        return EnsembleMemory(tuple(m.select(index) for m in self.members))


class SeqEnsemble(Ensemble):
    """Several trained encoder-decoders with one vocabulary, decoded as one model."""

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Log mean probabilities [B, T, V] of the next target character at every position."""
        return mean_probs([m(src, src_len, tgt_in, teacher_forcing=teacher_forcing) for m in self.members])

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[EnsembleMemory, list[Any]]:
        memories, states = zip(*(m.encode(src, src_len) for m in self.members), strict=True)
        return EnsembleMemory(memories), list(states)

    def step(self, tokens: torch.Tensor, state: list[Any], memory: EnsembleMemory) -> tuple[torch.Tensor, list[Any]]:
        outs = [m.step(tokens, s, mem) for m, s, mem in zip(self.members, state, memory.members, strict=True)]
        return mean_probs([logits for logits, _ in outs]), [s for _, s in outs]

    def select(self, state: list[Any], index: torch.Tensor) -> list[Any]:
        return [m.select(s, index) for m, s in zip(self.members, state, strict=True)]
