"""sklearn's bundled 8×8 handwritten digits: the embedded default (no download)."""

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData
from trainlab.data.registry import DATASETS

TEST_FRACTION = 0.2  # digits ships no test split: a fixed stratified 20% is held out


@DATASETS.register("digits")
def digits(cfg: DataConfig) -> RawData:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is 0.7 s of a run's start-up
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8) in [0, 1]
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, stratify=y, random_state=0)
    return RawData(x_tr, y_tr, x_te, y_te, [str(i) for i in range(10)])
