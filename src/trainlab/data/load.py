"""`load_dataset(cfg) -> ArrayDataset`: the registered sources, split and normalised (no torch)."""

from trainlab.config.schema import DataConfig
from trainlab.data import cifar, csvfile, diabetes, digits, idx, toy  # noqa: F401  (register the sources)
from trainlab.data.base import ArrayDataset, prepare
from trainlab.data.registry import DATASETS


def load_dataset(cfg: DataConfig) -> ArrayDataset:
    """Load the named dataset and prepare train/val/test splits."""
    return prepare(cfg.name, DATASETS.get(cfg.name)(cfg), cfg)
