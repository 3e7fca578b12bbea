"""Arrays for the scratch engine from the shared NumPy data API."""

from __future__ import annotations

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data import load_dataset

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]


def load_arrays(data_cfg: DataConfig) -> Arrays:
    """``(x_train, y_train, x_val, y_val, x_test, y_test, classes)``: normalised float32
    inputs (NCHW images or ``(N, D)`` features) and int64 labels."""
    ds = load_dataset(data_cfg)
    return ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.x_test, ds.y_test, list(ds.classes)
