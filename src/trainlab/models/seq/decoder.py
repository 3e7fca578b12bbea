"""Recurrent decoder with attention: previous character (+ context) → next-character logits."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.seq import Seq2SeqOptions
from trainlab.models.seq.attention import ATTENTION, Memory
from trainlab.models.seq.base import State
from trainlab.models.seq.rnn import build_rnn


class Decoder(nn.Module):
    """Embedding → recurrent stack → tanh(W [output; context]) → logits (optionally tied to the embedding)."""

    def __init__(self, embedding: nn.Embedding, opts: Seq2SeqOptions, vocab_size: int, memory_size: int,
                 tie_output: bool) -> None:
        super().__init__()
        self.embedding = embedding
        self.attention = ATTENTION.get(opts.attention)(opts.hidden_size, memory_size)
        context = self.attention.context_size
        rnn_input = opts.embedding_size + (context if self.attention.feeds_input else 0)
        self.rnn = build_rnn(opts.cell, opts.rnn_impl, rnn_input, opts.hidden_size, opts.layers, False, opts.dropout)
        self.dropout = nn.Dropout(opts.dropout)
        self.pre_output = nn.Linear(opts.hidden_size + context, opts.embedding_size)
        self.output = nn.Linear(opts.embedding_size, vocab_size)
        if tie_output:
            self.output.weight = embedding.weight

    def forward(self, tokens: torch.Tensor, state: State, memory: Memory,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Logits [B, T, V] for inputs `tokens` [B, T] (BOS + target[:-1]).

        With `teacher_forcing` < 1 each sequence takes, at each step, its own previous prediction
        instead of the target with probability 1 - teacher_forcing (scheduled sampling).
        """
        if teacher_forcing >= 1 and not self.attention.feeds_input:
            out, _ = self.rnn(self.dropout(self.embedding(tokens)), None, state)
            return self._output(out, self.attention(out, memory))
        logits = []
        inputs = tokens[:, 0]
        for t in range(tokens.shape[1]):
            step_logits, state = self.step(inputs, state, memory)
            logits.append(step_logits)
            if t + 1 < tokens.shape[1]:
                inputs = tokens[:, t + 1]
                if teacher_forcing < 1:
                    forced = torch.rand(inputs.shape, device=inputs.device) < teacher_forcing
                    inputs = torch.where(forced, inputs, step_logits.detach().argmax(-1))
        return torch.stack(logits, dim=1)

    def step(self, tokens: torch.Tensor, state: State, memory: Memory) -> tuple[torch.Tensor, State]:
        """One step: tokens [B] → logits [B, V] and the next state."""
        x = self.dropout(self.embedding(tokens))[:, None]
        context = None
        if self.attention.feeds_input:
            context = self.attention(state[0][-1][:, None], memory)  # queried with the previous top state
            x = torch.cat([x, context], dim=-1)
        out, state = self.rnn(x, None, state)
        if context is None:
            context = self.attention(out, memory)
        return self._output(out, context)[:, 0], state

    def _output(self, out: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.pre_output(torch.cat([out, context], dim=-1)))
        return self.output(self.dropout(hidden))
