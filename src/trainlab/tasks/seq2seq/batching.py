"""Pre-encoded padded tensors and length-bucketed batches for char-level seq2seq.

Everything is encoded once into int64 tensors; a batch is an index gather plus a trim to
its longest sequence, with no per-example Python in the training loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from trainlab.data.math.reader import Example
from trainlab.data.tensors import shard_rows
from trainlab.data.vocab import BOS, EOS, PAD, CharVocab


class MathBatch(NamedTuple):
    src: torch.Tensor  # [B, S] question ids, PAD-padded
    tgt: torch.Tensor  # [B, T] BOS + answer ids + EOS, PAD-padded
    src_len: torch.Tensor  # [B]
    tgt_len: torch.Tensor  # [B], counting BOS and EOS


@dataclass(frozen=True)
class MathTensors:
    """One split, encoded: row ``i`` of every tensor is example ``i``."""

    src: torch.Tensor
    tgt: torch.Tensor
    src_len: torch.Tensor
    tgt_len: torch.Tensor

    def __len__(self) -> int:
        return len(self.src_len)

    def batch(self, index: torch.Tensor) -> MathBatch:
        """Rows ``index``, trimmed to the longest question and answer among them."""
        src_len, tgt_len = self.src_len[index], self.tgt_len[index]
        s, t = (int(x.max()) if len(index) else 0 for x in (src_len, tgt_len))
        return MathBatch(self.src[index, :s], self.tgt[index, :t], src_len, tgt_len)

    def batches(
        self, batch_size: int, seed: int = 0, epoch: int = 0, shuffle: bool = True,
        bucket_batches: int = 50, rows: np.ndarray | None = None, shard: tuple[int, int] = (0, 1),
    ) -> Iterator[MathBatch]:
        """Length-bucketed batches in a seeded order (``shuffle=False``: in row order) of ``rows``
        (default: every row once; a row listed twice is seen twice); ``shard``: a DDP rank's share of each."""
        rows = np.arange(len(self)) if rows is None else rows
        if shuffle:
            rng = np.random.default_rng([seed, epoch])
            keys = (self.tgt_len.numpy()[rows], self.src_len.numpy()[rows])
            order = [torch.from_numpy(rows[b.numpy()]) for b in bucket_order(keys, batch_size, rng, bucket_batches)]
        else:
            order = list(torch.from_numpy(rows).split(batch_size))
        for index in order:
            if len(index := shard_rows(index, shard)):
                yield self.batch(index)


def bucket_order(
    keys: tuple[np.ndarray, ...], batch_size: int, rng: np.random.Generator, bucket_batches: int = 50
) -> list[torch.Tensor]:
    """Shuffle, sort each chunk of ``bucket_batches`` batches by ``keys`` (last is primary,
    as in ``np.lexsort``), cut into batches, then shuffle the batch order."""
    perm = rng.permutation(len(keys[0]))
    span = batch_size * bucket_batches
    batches: list[np.ndarray] = []
    for start in range(0, len(perm), span):
        chunk = perm[start : start + span]
        chunk = chunk[np.lexsort(tuple(k[chunk] for k in keys))]
        batches += np.split(chunk, list(range(batch_size, len(chunk), batch_size)))
    return [torch.from_numpy(batches[i]) for i in rng.permutation(len(batches))]


def encode_padded(
    texts: Sequence[str], vocab: CharVocab, bos: bool = False, eos: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``[N, L]`` int64 ids padded with PAD, and the lengths (specials included)."""
    texts = [vocab.normalize(t) for t in texts]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    rows = np.repeat(np.arange(len(texts)), lengths)
    cols = np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + bos
    width = int(lengths.max(initial=0)) + bos + eos
    out = np.full((len(texts), width), PAD, dtype=np.int64)
    out[rows, cols] = vocab.encode_codepoints(codes)
    if bos:
        out[:, 0] = BOS
    if eos:
        out[np.arange(len(texts)), lengths + bos] = EOS
    return out, lengths + bos + eos


def encode_examples(examples: Sequence[Example], vocab: CharVocab) -> MathTensors:
    """Questions as sources; ``BOS + answer + EOS`` as targets."""
    src, src_len = encode_padded([e.question for e in examples], vocab)
    tgt, tgt_len = encode_padded([e.answer for e in examples], vocab, bos=True, eos=True)
    return MathTensors(*(torch.from_numpy(a) for a in (src, tgt, src_len, tgt_len)))
