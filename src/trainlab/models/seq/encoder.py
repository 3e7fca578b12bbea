"""Recurrent encoder: characters → per-position outputs and the decoder's initial state."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.seq import Seq2SeqOptions
from trainlab.models.seq.base import State
from trainlab.models.seq.cells import CELLS
from trainlab.models.seq.rnn import build_rnn


class Encoder(nn.Module):
    """Embedding → (bi)directional recurrent stack. A bidirectional final state is bridged to H units."""

    def __init__(self, embedding: nn.Embedding, opts: Seq2SeqOptions) -> None:
        super().__init__()
        self.embedding = embedding
        self.dropout = nn.Dropout(opts.dropout)
        self.rnn = build_rnn(opts.cell, opts.rnn_impl, opts.embedding_size, opts.hidden_size, opts.layers,
                             opts.bidirectional, opts.dropout)
        self.layers, self.dirs = opts.layers, 2 if opts.bidirectional else 1
        self.output_size = opts.hidden_size * self.dirs
        num_states = CELLS.get(opts.cell)[0].num_states
        self.bridge = nn.ModuleList(
            nn.Linear(2 * opts.hidden_size, opts.hidden_size) for _ in range(num_states if opts.bidirectional else 0)
        )

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, State]:
        """src [B, S] (padded), lengths [B] → outputs [B, S, dirs*H], state of [layers, B, H] tensors."""
        outputs, state = self.rnn(self.dropout(self.embedding(src)), lengths)
        if self.dirs == 1:
            return outputs, state
        bridged = []
        for s, linear in zip(state, self.bridge, strict=True):
            fwd_bwd = s.view(self.layers, 2, *s.shape[1:]).transpose(1, 2).flatten(2)  # [layers, B, 2H]
            bridged.append(torch.tanh(linear(fwd_bwd)))
        return outputs, tuple(bridged)
