"""`load_dataset(cfg) -> ArrayDataset`: the registered sources, split and normalised (no torch)."""

from trainlab.config.schema import DataConfig
from trainlab.data import cifar, csvfile, diabetes, digits, idx, toy  # noqa: F401  (register the sources)
from trainlab.data.base import ArrayDataset, prepare
from trainlab.data.colors import colorize
from trainlab.data.folder import dataset as folder  # noqa: F401  (registers data.name=folder)
from trainlab.data.registry import DATASETS


def load_dataset(cfg: DataConfig) -> ArrayDataset:
    """Load the named dataset (tinted when data.colors is set) and prepare train/val/test splits."""
    raw = DATASETS.get(cfg.name)(cfg)
    if cfg.colors:
        raw = colorize(raw, cfg.colors, cfg.split_seed)
    return prepare(cfg.name, raw, cfg)
