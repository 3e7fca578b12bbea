"""The dataset contract: raw arrays from a source → prepared train/val/test arrays (NumPy only).

A dataset's targets are one of three kinds, told by which name list is filled (`target_kind`):

- "class": int64 labels (N,), one name per class in `classes`;
- "real": float32 targets (N,) or (N, T), one name per target column in `targets`;
- "multihead": int64 labels (N, H), `heads` maps each head's name to its class names (column order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.errors import ConfigError

TargetKind = Literal["class", "real", "multihead"]
TEST_FRACTION = 0.2  # held out as test by sources that ship no test split
RawArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Targets:
    """What the targets are: shared by RawData and ArrayDataset (needs `classes`, `targets`, `heads`)."""

    classes: list[str]
    targets: list[str]
    heads: dict[str, list[str]]

    @property
    def target_kind(self) -> TargetKind:
        filled = [kind for kind, names in (("class", self.classes), ("real", self.targets),
                                           ("multihead", self.heads)) if names]
        if len(filled) != 1:
            raise ValueError(f"exactly one of classes, targets, heads must be given (got {filled or 'none'})")
        return filled[0]  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        """Classes of a "class" dataset (0 for the other kinds)."""
        return len(self.classes)


SHAPE_OK: dict[TargetKind, Callable[[tuple[int, ...], int], bool]] = {
    "class": lambda shape, width: len(shape) == 1,
    "real": lambda shape, width: shape[1:] == (width,) or (len(shape) == 1 and width == 1),
    "multihead": lambda shape, width: shape[1:] == (width,),
}
"""Whether targets of a shape fit `width` names (targets or heads)."""


@dataclass
class RawData(Targets):
    """What a source returns: float32 inputs (images NCHW in [0, 1], or uint8 NCHW 0-255: kept uint8 up to the
    device, normalised there per batch) and the targets of one kind. A source with its own validation split
    gives `x_val`, `y_val` (data.val_fraction then does not apply)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    heads: dict[str, list[str]] = field(default_factory=dict)
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self) -> None:
        kind = self.target_kind
        width = len(self.targets) + len(self.heads)
        for y in (self.y_train, self.y_test, *([] if self.y_val is None else [self.y_val])):
            if not SHAPE_OK[kind](y.shape, width):
                raise ValueError(f"{kind} targets of shape {y.shape} do not fit {width} name(s)")


@dataclass
class ArrayDataset(Targets):
    """Prepared splits, inputs normalised with train statistics (targets as the source gave them); uint8 images
    stay uint8 (`mean`, `std` in [0, 1] units, applied on the device: `TensorSplit`)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    heads: dict[str, list[str]] = field(default_factory=dict)
    mean: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))
    std: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in ("train", "val", "test"):
            raise ConfigError(f"unknown split {name!r}", "use train, val or test")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


TARGET_DTYPES: dict[TargetKind, type] = {"class": np.int64, "real": np.float32, "multihead": np.int64}


def _joint(y: np.ndarray) -> np.ndarray:
    return np.unique(y, axis=0, return_inverse=True)[1].reshape(-1)


STRATA: dict[TargetKind, Callable[[np.ndarray], list[np.ndarray]]] = {
    "class": lambda y: [y],
    "multihead": lambda y: [_joint(y), y[:, 0]],  # the joint label when it fits, else the first head
    "real": lambda y: [],
}
"""Label arrays a split may stratify on, best first."""


def prepare(name: str, raw: RawData, cfg: DataConfig) -> ArrayDataset:
    """Subset, carve a (stratified where possible) validation split, and normalise inputs from train statistics."""
    kind = raw.target_kind
    x, y = raw.x_train, raw.y_train
    if cfg.subset is not None and cfg.subset < len(y):
        x, _, y, _ = split_arrays(x, y, train_size=cfg.subset, stratify=_stratify(y, kind, cfg.subset),
                                      random_state=cfg.split_seed)
    if raw.x_val is not None and raw.y_val is not None:
        x_val, y_val = raw.x_val, raw.y_val
    elif cfg.val_fraction > 0:
        x, x_val, y, y_val = split_arrays(
            x, y, test_size=cfg.val_fraction, stratify=_stratify(y, kind, cfg.val_fraction),
            random_state=cfg.split_seed,
        )
    else:
        x_val, y_val = x[:0], y[:0]
    x_test, y_test = raw.x_test, raw.y_test
    if x.dtype == np.uint8:
        return _prepare_uint8(name, raw, (x, y, x_val, y_val, x_test, y_test), cfg.normalize)
    axes = (0, 2, 3) if x.ndim == 4 else (0,)
    mean = np.zeros(x.shape[1], np.float32) if x.ndim in (2, 4) else np.zeros(1, np.float32)
    std = np.ones_like(mean)
    if cfg.normalize:
        mean = x.mean(axis=axes, dtype=np.float64).astype(np.float32)
        std = (x.std(axis=axes, dtype=np.float64) + 1e-8).astype(np.float32)
        shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
        x, x_val, x_test = ((a - mean.reshape(shape)) / std.reshape(shape) for a in (x, x_val, x_test))
    dtype = TARGET_DTYPES[kind]
    return ArrayDataset(
        name=name,
        x_train=np.ascontiguousarray(x, np.float32), y_train=np.ascontiguousarray(y, dtype),
        x_val=np.ascontiguousarray(x_val, np.float32), y_val=np.ascontiguousarray(y_val, dtype),
        x_test=np.ascontiguousarray(x_test, np.float32), y_test=np.ascontiguousarray(y_test, dtype),
        classes=raw.classes, targets=raw.targets, heads=raw.heads, mean=mean, std=std,
    )


def _prepare_uint8(name: str, raw: RawData, arrays: tuple[np.ndarray, ...], normalize: bool) -> ArrayDataset:
    """uint8 images (N, C, H, W) stay uint8 (4x less memory than float32); only their train statistics are
    computed here, in [0, 1] units."""
    x, y, x_val, y_val, x_test, y_test = arrays
    channels = x.shape[1]
    mean, std = np.zeros(channels, np.float32), np.ones(channels, np.float32)
    if normalize and len(x):
        mean, std = uint8_stats(x)
    dtype = TARGET_DTYPES[raw.target_kind]
    return ArrayDataset(name=name, x_train=x, y_train=np.asarray(y, dtype), x_val=x_val, y_val=np.asarray(y_val, dtype),
                        x_test=x_test, y_test=np.asarray(y_test, dtype), classes=raw.classes, targets=raw.targets,
                        heads=raw.heads, mean=mean, std=std)


def uint8_stats(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-channel mean and std of uint8 images (N, C, H, W) in [0, 1] units, from a histogram of the 256
    values per channel (a pass of integer counting, no float copy; chunked, so memory-mapped arrays stream)."""
    counts = np.zeros((x.shape[1], 256), np.int64)
    for a in range(0, len(x), chunk):
        part = np.asarray(x[a:a + chunk])
        for c in range(x.shape[1]):
            counts[c] += np.bincount(part[:, c].ravel(), minlength=256)
    values = np.arange(256) / 255.0
    n = counts.sum(axis=1)
    mean = counts @ values / n
    var = np.maximum(counts @ np.square(values) / n - np.square(mean), 0)
    return mean.astype(np.float32), (np.sqrt(var) + 1e-8).astype(np.float32)


def normalized(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Inputs as models read them: uint8 images scaled to [0, 1] and standardised per channel (float32); other
    inputs come standardised already and are returned as they are."""
    if x.dtype != np.uint8:
        return x
    shape = (1, -1, 1, 1)
    return (x.astype(np.float32) / 255.0 - mean.reshape(shape)) / std.reshape(shape)


def holdout(x: np.ndarray, y: np.ndarray, seed: int, stratify: np.ndarray | None = None) -> RawArrays:
    """A seeded TEST_FRACTION test split for sources that ship none: (x_train, y_train, x_test, y_test)."""
    x_tr, x_te, y_tr, y_te = split_arrays(x, y, test_size=TEST_FRACTION, stratify=stratify, random_state=seed)
    return x_tr, y_tr, x_te, y_te


def split_arrays(*arrays: np.ndarray, **options: Any) -> list[np.ndarray]:
    """scikit-learn's train_test_split, imported on first use: scikit-learn is 0.7 s of a run's start-up, and a
    dataset with its own splits never needs it."""
    from sklearn.model_selection import train_test_split

    return train_test_split(*arrays, **options)


def target_stats(y_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-target float32 mean and std of regression targets, shape () for (N,) or (T,) for (N, T); std 0 → 1."""
    y = np.asarray(y_train, np.float64)
    mean, std = y.mean(axis=0), y.std(axis=0)
    return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)


def _stratify(y: np.ndarray, kind: TargetKind, size: float) -> np.ndarray | None:
    """The first label array of STRATA that leaves every stratum on both sides; else None (a plain split)."""
    n = size if size >= 1 else size * len(y)
    for labels in STRATA[kind](y):
        counts = np.bincount(labels)
        if counts[counts > 0].min() >= 2 and min(n, len(y) - n) >= (counts > 0).sum():
            return labels
    return None
