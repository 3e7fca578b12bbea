"""Arrays for the scratch engine from the shared NumPy data API."""

from __future__ import annotations

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data import load_dataset
from trainlab.data.base import normalized

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]


def load_arrays(data_cfg: DataConfig) -> Arrays:
    """``(x_train, y_train, x_val, y_val, x_test, y_test, classes)``: normalised float32
    inputs (NCHW images or ``(N, D)`` features) and int64 labels."""
    ds = load_dataset(data_cfg)
    x_train, x_val, x_test = (normalized(x, ds.mean, ds.std) for x in (ds.x_train, ds.x_val, ds.x_test))
    return x_train, ds.y_train, x_val, ds.y_val, x_test, ds.y_test, list(ds.classes)
