"""The seq2seq task's data: Mathematics splits (read by trainlab.data.math), encoded once into padded id
tensors; a batch is an index gather trimmed to its longest sequence (length-bucketed for training), with
no per-example Python in the loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from trainlab.config.schema import DataConfig
from trainlab.config.tasks import MathDataConfig
from trainlab.data.locate import candidate_dirs
from trainlab.data.math.reader import Example, read_math_dir
from trainlab.data.vocab import CharVocab
from trainlab.errors import ConfigError, DataError
from trainlab.tasks.seq2seq.batching import MathTensors, encode_examples


class SeqBatch(NamedTuple):
    """Questions and answers on the device, and the share of decoder inputs taken from the answer."""

    src: torch.Tensor  # [B, S]
    src_len: torch.Tensor  # [B]
    tgt: torch.Tensor  # [B, T]: BOS + answer + EOS
    teacher_forcing: float = 1.0

    def head(self, n: int) -> SeqBatch:
        return SeqBatch(self.src[:n], self.src_len[:n], self.tgt[:n], self.teacher_forcing)


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
        return SeqBatch(b.src.to(self.device), b.src_len.to(self.device), b.tgt.to(self.device))

    def train_batches(self, batch_size: int, seed: int, epoch: int, teacher_forcing: float,
                      shard: tuple[int, int] = (0, 1)) -> Iterator[SeqBatch]:
        """Length-bucketed, shuffled by (seed, epoch); `shard`: this DDP rank's share of each batch."""
        for b in self.tensors.batches(batch_size, seed=seed, epoch=epoch, rows=self.rows, shard=shard):
            yield SeqBatch(b.src.to(self.device), b.src_len.to(self.device), b.tgt.to(self.device), teacher_forcing)

    def sorted_index(self, batch_size: int, limit: int | None = None) -> list[torch.Tensor]:
        """Row indices of batches of similar question length (little padding), of the first `limit` rows
        (the splits are shuffled, so these are a random sample) or of all."""
        lengths = self.tensors.src_len.numpy()[:limit]
        order = torch.from_numpy(np.argsort(lengths, kind="stable"))
        return list(order.split(batch_size))

    def num_batches(self, batch_size: int, world: int = 1) -> int:
        """Training batches of one epoch (with `world` DDP ranks: those whose shares are not empty; the buckets
        hold whole batches, so one batch at most is short)."""
        full, rest = divmod(len(self) if self.rows is None else len(self.rows), batch_size)
        return full + (1 if rest // world else 0)


def oversampled_rows(examples: Sequence[Example], oversample: dict[str, int]) -> np.ndarray | None:
    """Row indices of one training epoch, each example of module m repeated oversample[m] times."""
    if not oversample:
        return None
    present = sorted({e.module for e in examples})
    if unknown := sorted(set(oversample) - set(present)):
        raise ConfigError(f"task.math.oversample names {', '.join(unknown)}, which is not in the training data",
                          f"use module names from: {', '.join(present)}")
    counts = np.array([oversample.get(e.module, 1) for e in examples])
    return np.repeat(np.arange(len(examples)), counts)


def split_settings(cfg: DataConfig, opts: MathDataConfig) -> tuple[DataConfig, MathDataConfig]:
    """The data settings that decide the val and test splits: training-only options (subset, oversampling)
    cleared."""
    return cfg.model_copy(update={"subset": None}), opts.model_copy(update={"oversample": {}})


def load_math(cfg: DataConfig, opts: MathDataConfig, device: torch.device,
              vocab: CharVocab | None = None) -> tuple[CharVocab, dict[str, MathSplit]]:
    """The vocabulary (built from train text unless given) and every non-empty split."""
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
