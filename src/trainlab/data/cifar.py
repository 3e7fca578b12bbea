"""CIFAR-10/100 from the official python pickle batches, read with a restricted unpickler."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData
from trainlab.data.locate import Remote, locate
from trainlab.data.registry import DATASETS
from trainlab.errors import DataError

URL = "https://www.cs.toronto.edu/~kriz/"
SPECS = {
    # name: (folder inside the archive, train files, test file, meta file, label key, names key, archive)
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "test_batch",
                "batches.meta", b"labels", b"label_names",
                Remote(URL + "cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")),
    "cifar100": ("cifar-100-python", ["train"], "test", "meta", b"fine_labels", b"fine_label_names",
                 Remote(URL + "cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85")),
}

_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
}


class _SafeUnpickler(pickle.Unpickler):
    """Plain containers and NumPy arrays only: a data file must never run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module.replace("numpy.core", "numpy._core"), name)
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def read_batch(path: Path) -> dict[bytes, Any]:
    try:
        with path.open("rb") as f:
            obj = _SafeUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError) as e:
        raise DataError(f"cannot read CIFAR batch {path} ({e})", "replace it with the original file") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path} is not a CIFAR batch (no dict inside)", "replace it with the original file")
    return obj


def _images(batch: dict[bytes, Any], path: Path) -> np.ndarray:
    data = np.asarray(batch.get(b"data"))
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: data has shape {data.shape}, expected (N, 3072)", "replace the file")
    return (data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)


def _load(name: str, cfg: DataConfig) -> RawData:
    sub, train_files, test_file, meta_file, label_key, names_key, remote = SPECS[name]
    required = [(f"{sub}/{f}", f) for f in [*train_files, test_file, meta_file]]
    folder = locate(name, cfg.root, cfg.download, required, [remote])
    if not (folder / sub / test_file).is_file() and not (folder / test_file).is_file():
        _extract(folder / remote.url.rsplit("/", 1)[-1], folder)
    base = folder / sub if (folder / sub / test_file).is_file() else folder

    def load(files: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for f in files:
            batch = read_batch(base / f)
            if label_key not in batch:
                raise DataError(f"{base / f} has no {label_key.decode()} entry", "replace the file")
            xs.append(_images(batch, base / f))
            ys.append(np.asarray(batch[label_key], np.int64))
        return np.concatenate(xs), np.concatenate(ys)

    x_tr, y_tr = load(train_files)
    x_te, y_te = load([test_file])
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in read_batch(base / meta_file)[names_key]]
    return RawData(x_tr, y_tr, x_te, y_te, names)


def _extract(archive: Path, folder: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")


def write_batch(path: Path, obj: dict[bytes, Any]) -> None:
    """Write a batch in the official format (used to make test fixtures)."""
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=2)
    path.write_bytes(buf.getvalue())


@DATASETS.register("cifar10")
def cifar10(cfg: DataConfig) -> RawData:
    return _load("cifar10", cfg)


@DATASETS.register("cifar100")
def cifar100(cfg: DataConfig) -> RawData:
    return _load("cifar100", cfg)
