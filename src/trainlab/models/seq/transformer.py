"""A small Transformer encoder-decoder over characters (`model.name=transformer`)."""

from __future__ import annotations

import math

import torch
from torch import nn

from trainlab.config.seq import TransformerOptions
from trainlab.data.vocab import PAD
from trainlab.models.registry import MODELS
from trainlab.models.seq.attention import Memory


def sinusoids(length: int, width: int, device: torch.device) -> torch.Tensor:
    """Fixed positional encodings [length, width] (Vaswani et al. 2017)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, : width // 2]
    return table


def embedding(vocab_size: int, width: int) -> nn.Embedding:
    """Token embedding at std width^-1/2 (Vaswani et al. 2017): scaled by √width it has unit scale, like the
    positions, and as the tied output layer it gives logits of unit scale. nn.Embedding's N(0, 1) makes the
    tokens √width times louder than their positions and the first logits dozens of units wide."""
    table = nn.Embedding(vocab_size, width, padding_idx=PAD)
    nn.init.normal_(table.weight, std=width**-0.5)
    with torch.no_grad():
        table.weight[PAD].zero_()
    return table


class TransformerSeq2Seq(nn.Module):
    """Pre-norm encoder-decoder. Decoding state is the prefix generated so far (re-decoded each step)."""

    def __init__(self, opts: TransformerOptions, vocab_size: int) -> None:
        super().__init__()
        d = opts.d_model
        self.scale = math.sqrt(d)
        self.source = embedding(vocab_size, d)
        self.target = self.source if opts.shared_embeddings else embedding(vocab_size, d)
        self.dropout = nn.Dropout(opts.dropout)
        layer = {"d_model": d, "nhead": opts.heads, "dim_feedforward": opts.ff_size, "dropout": opts.dropout,
                 "batch_first": True, "norm_first": True}
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer), opts.encoder_layers,
                                             norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), opts.decoder_layers,
                                             norm=nn.LayerNorm(d))
        self.output = nn.Linear(d, vocab_size)
        if opts.shared_embeddings:
            self.output.weight = self.source.weight

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        positions = sinusoids(tokens.shape[1], embedding.embedding_dim, tokens.device)
        return self.dropout(embedding(tokens) * self.scale + positions)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[Memory, torch.Tensor]:
        mask = torch.arange(src.shape[1], device=src.device) < src_len[:, None]
        values = self.encoder(self._embed(self.source, src), src_key_padding_mask=~mask)
        return Memory(values, mask), src.new_zeros(len(src), 0)

    def _decode(self, tgt_in: torch.Tensor, memory: Memory) -> torch.Tensor:
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], device=tgt_in.device)
        out = self.decoder(self._embed(self.target, tgt_in), memory.values, tgt_mask=causal, tgt_is_causal=True,
                           memory_key_padding_mask=~memory.mask)
        return self.output(out)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing: float = 1.0) -> torch.Tensor:
        """Logits [B, T, V]. With `teacher_forcing` < 1, a first pass's predictions replace that share of the
        inputs (two-pass scheduled sampling, Mihaylova & Martins 2019)."""
        memory, _ = self.encode(src, src_len)
        if teacher_forcing < 1:
            with torch.no_grad():
                predicted = self._decode(tgt_in, memory).argmax(-1)
            forced = torch.rand(tgt_in.shape, device=tgt_in.device) < teacher_forcing
            forced[:, 0] = True
            tgt_in = torch.where(forced, tgt_in, torch.cat([tgt_in[:, :1], predicted[:, :-1]], dim=1))
        return self._decode(tgt_in, memory)

    def step(self, tokens: torch.Tensor, prefix: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        prefix = torch.cat([prefix, tokens[:, None]], dim=1)
        return self._decode(prefix, memory)[:, -1], prefix

    @staticmethod
    def select(prefix: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return prefix.index_select(0, index)


@MODELS.register("transformer")
def transformer(opts: TransformerOptions, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """`num_classes` is the vocabulary size; `input_shape` is unused (any length)."""
    return TransformerSeq2Seq(opts, num_classes)
