"""Synthetic sets: 2-D classification (moons, circles, spirals, xor, gaussians) and 1-D regression (hetero).

A toy set returns (x, y): integer y are class labels (split stratified), floating y regression targets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from trainlab.config.schema import DataConfig, ToyConfig
from trainlab.data.base import RawData, holdout
from trainlab.data.registry import DATASETS
from trainlab.registry import Registry

TOY_SETS: Registry[Callable[[ToyConfig, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = Registry(
    "toy set"
)


@TOY_SETS.register("moons")
def _moons(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons  # imported here: scikit-learn is 0.7 s of a run's start-up

    return make_moons(cfg.samples, noise=cfg.noise, random_state=int(rng.integers(2**31)))


@TOY_SETS.register("circles")
def _circles(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    return make_circles(cfg.samples, noise=cfg.noise, factor=0.5, random_state=int(rng.integers(2**31)))


@TOY_SETS.register("spirals")
def _spirals(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    k = cfg.classes
    y = np.arange(cfg.samples) % k
    t = rng.uniform(0.0, 1.0, cfg.samples)
    angle = 4.0 * t + 2 * np.pi * y / k + rng.normal(0, cfg.noise, cfg.samples)
    x = np.stack([t * np.sin(angle), t * np.cos(angle)], axis=1)
    return x, y


@TOY_SETS.register("xor")
def _xor(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, (cfg.samples, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return x + rng.normal(0, cfg.noise, x.shape), y


@TOY_SETS.register("gaussians")
def _gaussians(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    return make_blobs(cfg.samples, centers=cfg.classes, cluster_std=1.0 + 10 * cfg.noise,
                      random_state=int(rng.integers(2**31)))


@TOY_SETS.register("hetero")
def _hetero(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x ~ U(0, 1), y = sin(2πx) + ε with ε ~ N(0, σ(x)²), σ(x) = noise · (0.5 + 4x) (0.05 + 0.4x at noise=0.1)."""
    x = rng.uniform(0.0, 1.0, (cfg.samples, 1))
    sigma = cfg.noise * (0.5 + 4.0 * x[:, 0])
    return x, np.sin(2 * np.pi * x[:, 0]) + rng.normal(0.0, 1.0, cfg.samples) * sigma


@DATASETS.register("toy")
def toy(cfg: DataConfig) -> RawData:
    rng = np.random.default_rng(cfg.split_seed)
    x, y = TOY_SETS.get(cfg.toy.kind)(cfg.toy, rng)
    if np.issubdtype(y.dtype, np.floating):
        return RawData(*holdout(x.astype(np.float32), y.astype(np.float32), cfg.split_seed), targets=["y"])
    x_tr, y_tr, x_te, y_te = holdout(x.astype(np.float32), y.astype(np.int64), cfg.split_seed, stratify=y)
    return RawData(x_tr, y_tr, x_te, y_te, [str(c) for c in range(int(y.max()) + 1)])
