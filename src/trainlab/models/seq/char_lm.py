"""Recurrent character language model (`model.name=char_lm`)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.seq import CharLMOptions
from trainlab.data.vocab import PAD
from trainlab.models.registry import MODELS
from trainlab.models.seq.base import State
from trainlab.models.seq.rnn import build_rnn


class CharLM(nn.Module):
    """Embedding → recurrent stack → next-character logits (tied: projected back through the embedding)."""

    def __init__(self, opts: CharLMOptions, vocab_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, opts.embedding_size, padding_idx=PAD)
        self.rnn = build_rnn(opts.cell, opts.rnn_impl, opts.embedding_size, opts.hidden_size, opts.layers, False,
                             opts.dropout)
        self.dropout = nn.Dropout(opts.dropout)
        if opts.tie_embeddings:
            self.output = nn.Sequential(nn.Linear(opts.hidden_size, opts.embedding_size),
                                        nn.Linear(opts.embedding_size, vocab_size))
            self.output[1].weight = self.embedding.weight
        else:
            self.output = nn.Sequential(nn.Linear(opts.hidden_size, vocab_size))

    def forward(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """tokens [B, T] → logits [B, T, V] of each next character, and the final state."""
        out, state = self.rnn(self.dropout(self.embedding(tokens)), None, state)
        return self.output(self.dropout(out)), state


@MODELS.register("char_lm")
def char_lm(opts: CharLMOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """`num_classes` is the vocabulary size; `input_shape` is unused (any length)."""
    return CharLM(opts, num_classes)
