"""Data stage, NumPy side: dataset registry and `load_dataset(cfg) -> ArrayDataset` (no torch).

The torch side (device-resident tensors, batched augmentation) lives in
`trainlab.data.tensors` and `trainlab.data.augment`, imported by the engine only.
Names resolve lazily, so `trainlab.data.math` and the CLI's `--help` do not pay for scikit-learn.
"""

from importlib import import_module

_WHERE = {"load_dataset": "load", "DATASETS": "load", "ArrayDataset": "base", "RawData": "base",
          "DataConfig": "load", "target_stats": "base"}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(import_module(f"trainlab.data.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'trainlab.data' has no attribute {name!r}")


__all__ = ["DATASETS", "ArrayDataset", "DataConfig", "RawData", "load_dataset", "target_stats"]
