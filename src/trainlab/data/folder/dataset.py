"""`data.name=folder`: the uint8 array cache written by `trainlab data images`, read memory-mapped.

The layout of a cleaned folder (DST): `dataset.json` (written first with "complete": false, rewritten
last with the classes and options), `x_{split}.npy` uint8 (N, 3, H, W), `y_{split}.npy` int64 labels,
`{split}.csv` (row → source file), `rejected.csv`, `stats.json`. No image is decoded here:
an epoch reads the arrays only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData
from trainlab.data.registry import DATASETS
from trainlab.errors import ConfigError, DataError

MARKER = "dataset.json"
FORMAT = "trainlab-image-folder"
VERSION = 1


def x_file(root: Path, split: str) -> Path:
    return root / f"x_{split}.npy"


def y_file(root: Path, split: str) -> Path:
    return root / f"y_{split}.npy"


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The cleaned folder's dataset.json, or None when `root` holds none (not a cleaned folder)."""
    path = root / MARKER
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path} ({e})", f"clean the folder again: trainlab data images SRC --out {root}"
                        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{path} is not a trainlab image-folder manifest", "point data.path at a folder written by "
                        "`trainlab data images`")
    return manifest


@DATASETS.register("folder")
def folder(cfg: DataConfig) -> RawData:
    """The train/val/test arrays of a cleaned folder, memory-mapped, uint8 (normalised on the device)."""
    if cfg.path is None:
        raise ConfigError("data.name=folder needs data.path", "set data.path=DIR, a folder cleaned by "
                          "`trainlab data images SRC --out DIR`")
    root = Path(cfg.path)
    manifest = read_manifest(root)
    if manifest is None:
        raise DataError(f"{root} is not a cleaned image folder (no {MARKER})",
                        f"clean it first: trainlab data images {root} --out CLEAN, then set data.path=CLEAN")
    if not manifest.get("complete"):
        raise DataError(f"the cleaning of {root} did not finish",
                        f"run it again: trainlab data images SRC --out {root}")
    if manifest.get("version") != VERSION:
        raise DataError(f"{root} was cleaned by another trainlab version (format {manifest.get('version')})",
                        f"clean it again: trainlab data images SRC --out {root} --force")
    try:
        x = {s: np.load(x_file(root, s), mmap_mode="r") for s in ("train", "val", "test")}
        y = {s: np.load(y_file(root, s)) for s in ("train", "val", "test")}
    except (OSError, ValueError) as e:
        raise DataError(f"{root}: the array cache is damaged ({e})",
                        f"clean it again: trainlab data images SRC --out {root} --force") from None
    return RawData(x["train"], y["train"], x["test"], y["test"], list(manifest["classes"]),
                   x_val=x["val"], y_val=y["val"])
