"""The char_lm task's data: a text file cut into train / val / test, encoded once as rows of ids on a device."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainlab.config.schema import DataConfig
from trainlab.data.tensors import shard_rows
from trainlab.data.vocab import CharVocab
from trainlab.errors import ConfigError, DataError


def read_text(cfg: DataConfig) -> dict[str, str]:
    """A text file cut into contiguous train / val / test parts (val and test: data.val_fraction each)."""
    if cfg.path is None:
        raise ConfigError("data.name=text needs a file", "set data.path=FILE")
    path = Path(os.path.expanduser(cfg.path))
    if not path.is_file():
        raise DataError(f"text file {path} not found", "check data.path")
    text = path.read_text(encoding="utf-8", errors="replace")
    held = int(len(text) * cfg.val_fraction)
    train_end = len(text) - 2 * held
    return {"train": text[:train_end], "val": text[train_end:train_end + held], "test": text[train_end + held:]}


def encode_text(text: str, vocab: CharVocab) -> np.ndarray:
    """Ids of every character (vectorised)."""
    return vocab.encode_codepoints(np.frombuffer(vocab.normalize(text).encode("utf-32-le"), dtype=np.uint32))


@dataclass
class StreamSplit:
    """A text as rows of `seq_len` inputs x and next-character targets y, on a device."""

    x: torch.Tensor
    y: torch.Tensor

    @classmethod
    def encode(cls, text: str, vocab: CharVocab, seq_len: int, device: torch.device) -> StreamSplit:
        ids = encode_text(text, vocab)
        length = min(seq_len, max(len(ids) - 1, 0))
        rows = (len(ids) - 1) // length if length else 0
        x = ids[: rows * length].reshape(rows, length)
        y = ids[1: rows * length + 1].reshape(rows, length)
        return cls(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))

    def __len__(self) -> int:
        return len(self.x)

    def batches(self, batch_size: int, gen: torch.Generator | None = None, shard: tuple[int, int] = (0, 1)
                ) -> Iterator[tuple[torch.Tensor, ...]]:
        """Shuffled when `gen` is given; `shard`: this DDP rank's share of each batch (`shard_rows`)."""
        order = (torch.arange(len(self)) if gen is None
                 else torch.randperm(len(self), generator=gen, device=gen.device)).to(self.x.device)
        for i in range(0, len(self), batch_size):
            idx = shard_rows(order[i:i + batch_size], shard)
            if not len(idx):
                break
            yield self.x[idx], self.y[idx]

    def num_batches(self, batch_size: int, world: int = 1) -> int:
        full, rest = divmod(len(self), batch_size)
        return full + (1 if rest // world else 0)
