"""The recurrent encoder-decoder (`model.name=seq2seq`)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.config.seq import Seq2SeqOptions
from trainlab.data.vocab import PAD
from trainlab.models.registry import MODELS
from trainlab.models.seq.attention import Memory
from trainlab.models.seq.base import State
from trainlab.models.seq.decoder import Decoder
from trainlab.models.seq.encoder import Encoder


class Seq2Seq(nn.Module):
    """Encoder → decoder; the decoder starts from the encoder's final state and attends to its outputs."""

    def __init__(self, opts: Seq2SeqOptions, vocab_size: int) -> None:
        super().__init__()
        source = nn.Embedding(vocab_size, opts.embedding_size, padding_idx=PAD)
        target = source if opts.shared_embeddings else nn.Embedding(vocab_size, opts.embedding_size,
                                                                     padding_idx=PAD)
        self.encoder = Encoder(source, opts)
        self.decoder = Decoder(target, opts, vocab_size, self.encoder.output_size, opts.shared_embeddings)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Logits [B, T, V] of the next target character at every position."""
        memory, state = self.encode(src, src_len)
        return self.decoder(tgt_in, state, memory, teacher_forcing)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[Memory, State]:
        outputs, state = self.encoder(src, src_len)
        mask = torch.arange(src.shape[1], device=src.device) < src_len[:, None]
        return Memory(outputs, mask, self.decoder.attention.keys(outputs)), state

    def step(self, tokens: torch.Tensor, state: State, memory: Memory) -> tuple[torch.Tensor, State]:
        return self.decoder.step(tokens, state, memory)

    @staticmethod
    def select(state: State, index: torch.Tensor) -> State:
        return tuple(s.index_select(1, index) for s in state)


@MODELS.register("seq2seq")
def seq2seq(opts: Seq2SeqOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """`num_classes` is the vocabulary size; `input_shape` is unused (any length)."""
    return Seq2Seq(opts, num_classes)
