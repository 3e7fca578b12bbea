"""Data of the sequence tasks: Mathematics splits (read and encoded by trainlab.data.math) and text streams.

Texts are encoded once into padded id tensors; a batch is an index gather trimmed to its
longest sequence (length-bucketed for training), with no per-example Python in the loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainlab.config.schema import DataConfig
from trainlab.data.locate import candidate_dirs
from trainlab.data.math.batching import MathTensors, encode_examples
from trainlab.data.math.reader import Example, read_math_dir
from trainlab.data.math.vocab import CharVocab
from trainlab.errors import ConfigError, DataError

SeqBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # src [B, S], src_len [B], tgt [B, T]


def find_math_root(cfg: DataConfig) -> Path:
    """data.root (or data.root/math) when set; else $TRAINLAB_DATA/math, ..., then ./data/math: the first
    holding train-* files."""
    dirs = candidate_dirs("math", cfg.root)
    if cfg.root is not None:
        dirs = dirs[:2]  # an explicit root is the only place looked at
    else:
        dirs.append(Path("data/math"))
    for d in dirs:
        if d.is_dir() and any(d.glob("train-*/*.txt")):
            return d
    where = f" in {cfg.root} or {Path(cfg.root) / 'math'}" if cfg.root is not None else ""
    raise DataError(f"no Mathematics files found{where} (train-<difficulty>/<module>.txt)",
                    "generate them with `trainlab data math --out data/math` or set data.root")


@dataclass
class MathSplit:
    """One split: its examples and their encoding (CPU tensors; batches move to `device`)."""

    examples: Sequence[Example]
    tensors: MathTensors
    device: torch.device
    rows: np.ndarray | None = None  # rows of one training epoch, when some are repeated (oversampling)

    def __len__(self) -> int:
        return len(self.examples)

    def batch(self, index: torch.Tensor) -> SeqBatch:
        b = self.tensors.batch(index)
        return b.src.to(self.device), b.src_len.to(self.device), b.tgt.to(self.device)

    def train_batches(self, batch_size: int, seed: int, epoch: int) -> Iterator[SeqBatch]:
        """Length-bucketed, shuffled by (seed, epoch)."""
        for b in self.tensors.batches(batch_size, seed=seed, epoch=epoch, rows=self.rows):
            yield b.src.to(self.device), b.src_len.to(self.device), b.tgt.to(self.device)

    def sorted_index(self, batch_size: int, limit: int | None = None) -> list[torch.Tensor]:
        """Row indices of batches of similar question length (little padding), of the first `limit` rows
        (the splits are shuffled, so these are a random sample) or of all."""
        lengths = self.tensors.src_len.numpy()[:limit]
        order = torch.from_numpy(np.argsort(lengths, kind="stable"))
        return list(order.split(batch_size))

    def num_batches(self, batch_size: int) -> int:
        """Training batches of one epoch."""
        return -(-(len(self) if self.rows is None else len(self.rows)) // batch_size)


def oversampled_rows(examples: Sequence[Example], oversample: dict[str, int]) -> np.ndarray | None:
    """Row indices of one training epoch, each example of module m repeated oversample[m] times."""
    if not oversample:
        return None
    present = sorted({e.module for e in examples})
    if unknown := sorted(set(oversample) - set(present)):
        raise ConfigError(f"data.math.oversample names {', '.join(unknown)}, which is not in the training data",
                          f"use module names from: {', '.join(present)}")
    counts = np.array([oversample.get(e.module, 1) for e in examples])
    return np.repeat(np.arange(len(examples)), counts)


def split_settings(cfg: DataConfig) -> DataConfig:
    """The data settings that decide the val and test splits: training-only options (subset, oversampling)
    cleared."""
    return cfg.model_copy(update={"subset": None, "math": cfg.math.model_copy(update={"oversample": {}})})


def load_math(cfg: DataConfig, device: torch.device,
              vocab: CharVocab | None = None) -> tuple[CharVocab, dict[str, MathSplit]]:
    """The vocabulary (built from train text unless given) and every non-empty split."""
    opts = cfg.math
    examples = read_math_dir(find_math_root(cfg), opts.modules, opts.difficulty, cfg.split_seed)
    if cfg.subset is not None:
        examples["train"] = examples["train"][: cfg.subset]
    if not opts.extra_tests:
        examples = {k: v for k, v in examples.items() if k in ("train", "val", "test")}
    if not examples["train"]:
        raise DataError("the Mathematics training split is empty", "generate more examples per module")
    if vocab is None:
        train = examples["train"]
        vocab = CharVocab.build([e.question for e in train] + [e.answer for e in train], opts.lowercase)
    splits = {name: MathSplit(ex, encode_examples(ex, vocab), device) for name, ex in examples.items() if ex}
    splits["train"].rows = oversampled_rows(examples["train"], opts.oversample)
    return vocab, splits


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

    def batches(self, batch_size: int, gen: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
        order = (torch.arange(len(self)) if gen is None
                 else torch.randperm(len(self), generator=gen, device=gen.device)).to(self.x.device)
        for i in range(0, len(self), batch_size):
            idx = order[i:i + batch_size]
            yield self.x[idx], self.y[idx]

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)
