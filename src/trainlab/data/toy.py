"""2-D synthetic classification sets: moons, circles, spirals, xor, gaussians."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.model_selection import train_test_split

from trainlab.config.schema import DataConfig, ToyConfig
from trainlab.data.base import RawData
from trainlab.data.registry import DATASETS
from trainlab.registry import Registry

TOY_SETS: Registry[Callable[[ToyConfig, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = Registry(
    "toy set"
)


@TOY_SETS.register("moons")
def _moons(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return make_moons(cfg.samples, noise=cfg.noise, random_state=int(rng.integers(2**31)))


@TOY_SETS.register("circles")
def _circles(cfg: ToyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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
    return make_blobs(cfg.samples, centers=cfg.classes, cluster_std=1.0 + 10 * cfg.noise,
                      random_state=int(rng.integers(2**31)))


@DATASETS.register("toy")
def toy(cfg: DataConfig) -> RawData:
    rng = np.random.default_rng(cfg.split_seed)
    x, y = TOY_SETS.get(cfg.toy.kind)(cfg.toy, rng)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x.astype(np.float32), y.astype(np.int64), test_size=0.2, stratify=y, random_state=cfg.split_seed
    )
    classes = [str(c) for c in range(int(y.max()) + 1)]
    return RawData(x_tr, y_tr, x_te, y_te, classes)
