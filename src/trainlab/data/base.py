"""The dataset contract: raw arrays from a source → prepared train/val/test arrays (NumPy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split

from trainlab.config.schema import DataConfig
from trainlab.errors import ConfigError


@dataclass
class RawData:
    """What a source returns: float32 inputs (images NCHW in [0, 1]) and int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]


@dataclass
class ArrayDataset:
    """Prepared splits, normalised with train statistics."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    mean: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))
    std: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in ("train", "val", "test"):
            raise ConfigError(f"unknown split {name!r}", "use train, val or test")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


def prepare(name: str, raw: RawData, cfg: DataConfig) -> ArrayDataset:
    """Subset, carve a stratified validation split, and normalise from train statistics."""
    x, y = raw.x_train, raw.y_train
    if cfg.subset is not None and cfg.subset < len(y):
        x, y = _stratified_take(x, y, cfg.subset, cfg.split_seed)
    if cfg.val_fraction > 0:
        x, x_val, y, y_val = train_test_split(
            x, y, test_size=cfg.val_fraction, stratify=_stratify(y, cfg.val_fraction),
            random_state=cfg.split_seed,
        )
    else:
        x_val, y_val = x[:0], y[:0]
    x_test, y_test = raw.x_test, raw.y_test
    axes = (0, 2, 3) if x.ndim == 4 else (0,)
    mean = np.zeros(x.shape[1], np.float32) if x.ndim in (2, 4) else np.zeros(1, np.float32)
    std = np.ones_like(mean)
    if cfg.normalize:
        mean = x.mean(axis=axes, dtype=np.float64).astype(np.float32)
        std = (x.std(axis=axes, dtype=np.float64) + 1e-8).astype(np.float32)
        shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
        x, x_val, x_test = ((a - mean.reshape(shape)) / std.reshape(shape) for a in (x, x_val, x_test))
    return ArrayDataset(
        name=name,
        x_train=np.ascontiguousarray(x, np.float32), y_train=y.astype(np.int64),
        x_val=np.ascontiguousarray(x_val, np.float32), y_val=y_val.astype(np.int64),
        x_test=np.ascontiguousarray(x_test, np.float32), y_test=y_test.astype(np.int64),
        classes=raw.classes, mean=mean, std=std,
    )


def _stratified_take(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x_take, _, y_take, _ = train_test_split(x, y, train_size=n, stratify=_stratify(y, n), random_state=seed)
    return x_take, y_take


def _stratify(y: np.ndarray, size: float) -> np.ndarray | None:
    """Stratify when every class can appear on both sides; else a plain random split."""
    counts = np.bincount(y)
    n = size if size >= 1 else size * len(y)
    ok = counts[counts > 0].min() >= 2 and min(n, len(y) - n) >= (counts > 0).sum()
    return y if ok else None
