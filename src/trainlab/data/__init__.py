"""Data stage, NumPy side: dataset registry and `load_dataset(cfg) -> ArrayDataset` (no torch).

The torch side (device-resident tensors, batched augmentation) lives in
`trainlab.data.tensors` and `trainlab.data.augment`, imported by the engine only.
"""

from trainlab.config.schema import DataConfig
from trainlab.data import cifar, digits, idx, toy  # noqa: F401  (register the sources)
from trainlab.data.base import ArrayDataset, RawData, prepare
from trainlab.data.registry import DATASETS


def load_dataset(cfg: DataConfig) -> ArrayDataset:
    """Load the named dataset and prepare train/val/test splits."""
    return prepare(cfg.name, DATASETS.get(cfg.name)(cfg), cfg)


__all__ = ["DATASETS", "ArrayDataset", "DataConfig", "RawData", "load_dataset"]
