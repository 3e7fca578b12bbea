"""scikit-learn's bundled diabetes regression set: 442 patients, 10 features, one float target (no download)."""

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData, holdout
from trainlab.data.registry import DATASETS


@DATASETS.register("diabetes")
def diabetes(cfg: DataConfig) -> RawData:
    """Target: disease progression one year after baseline; a seeded 80/20 train/test split."""
    from sklearn.datasets import load_diabetes  # imported here: scikit-learn is 0.7 s of a run's start-up

    bunch = load_diabetes()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.float32)
    return RawData(*holdout(x, y, cfg.split_seed), targets=["progression"])
