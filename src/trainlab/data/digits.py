"""sklearn's bundled 8×8 handwritten digits: the embedded default (no download)."""

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData, holdout
from trainlab.data.registry import DATASETS


@DATASETS.register("digits")
def digits(cfg: DataConfig) -> RawData:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is 0.7 s of a run's start-up

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8) in [0, 1]
    y = bunch.target.astype(np.int64)
    x_tr, y_tr, x_te, y_te = holdout(x, y, seed=0, stratify=y)  # digits ships no test split: a fixed stratified 20%
    return RawData(x_tr, y_tr, x_te, y_te, [str(i) for i in range(10)])
