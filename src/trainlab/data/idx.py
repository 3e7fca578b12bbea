"""MNIST and Fashion-MNIST from IDX files (raw or .gz)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData
from trainlab.data.locate import Remote, locate
from trainlab.data.registry import DATASETS
from trainlab.errors import DataError

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
MD5 = {
    "mnist": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
    "fashion-mnist": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
}
CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file: magic (0, 0, dtype, ndim), big-endian dims, then the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read {path} ({e})", "the file is corrupt; replace it") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)", "replace it with the original file")
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(DTYPES[data[2]])
    count = int(np.prod(dims))
    offset = 4 + 4 * ndim
    if len(data) - offset != count * dtype.itemsize:
        raise DataError(f"{path} is truncated or has extra bytes", "replace it with the original file")
    return np.frombuffer(data, dtype, count=count, offset=offset).reshape(dims).astype(dtype.newbyteorder("="))


def _load(name: str, cfg: DataConfig) -> RawData:
    required = [(f, f + ".gz") for f in FILES]
    remotes = [Remote(URLS[name] + f + ".gz", md5) for f, md5 in zip(FILES, MD5[name], strict=True)]
    folder = locate(name, cfg.root, cfg.download, required, remotes)
    arrays = [read_idx(_existing(folder, f)) for f in FILES]
    x_tr, y_tr, x_te, y_te = arrays
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise DataError(f"{name} images and labels differ in count in {folder}", "replace the files")
    if x_tr.dtype != np.uint8 or x_te.dtype != np.uint8:
        raise DataError(f"{name} images in {folder} are not 8-bit (IDX type {x_tr.dtype})", "replace the files")
    # uint8 kept as read (N, 1, 28, 28): 4x less memory than float32, normalised per batch on the device
    return RawData(x_tr[:, None], y_tr.astype(np.int64), x_te[:, None], y_te.astype(np.int64), CLASSES[name])


def _existing(folder: Path, stem: str) -> Path:
    return folder / stem if (folder / stem).is_file() else folder / f"{stem}.gz"


URLS = {"mnist": MNIST_URL, "fashion-mnist": FASHION_URL}


@DATASETS.register("mnist")
def mnist(cfg: DataConfig) -> RawData:
    return _load("mnist", cfg)


@DATASETS.register("fashion-mnist")
def fashion_mnist(cfg: DataConfig) -> RawData:
    return _load("fashion-mnist", cfg)
