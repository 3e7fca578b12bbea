"""Any CSV file with a header row: `data.target` names the target column(s), every other column is a feature."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData, holdout
from trainlab.data.registry import DATASETS
from trainlab.errors import ConfigError, DataError
from trainlab.registry import did_you_mean


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """The header and the values as float64 (rows × columns); blank lines are skipped."""
    if not path.is_file():
        raise DataError(f"CSV file {path} not found", "check data.path")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [(i, row) for i, row in enumerate(csv.reader(f), start=1) if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"CSV file {path} is empty", "give it a header row and data rows")
    header = [name.strip() for name in rows[0][1]]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(f"{path} has duplicate column names {duplicates}", "give every column a distinct name")
    if len(rows) < 3:
        raise DataError(f"{path} has {len(rows) - 1} data row(s)", "a train/test split needs at least 2")
    values = np.empty((len(rows) - 1, len(header)))
    for r, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DataError(f"{path} line {line} has {len(row)} fields, the header {len(header)}",
                            "give every row one value per column")
        for c, cell in enumerate(row):
            values[r, c] = _number(cell, path, line, header[c])
    return header, values


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{path} line {line}, column {column!r}: {cell!r} is not a finite number",
                        "make every feature and target value numeric")
    return value


@DATASETS.register("csv")
def csv_file(cfg: DataConfig) -> RawData:
    """Float targets ((N,) for one column name, (N, T) for a list); a seeded 80/20 train/test split."""
    if cfg.path is None:
        raise ConfigError("data.name=csv needs data.path", "set data.path=FILE.csv")
    header, values = read_csv(Path(cfg.path))
    if not cfg.target:
        raise ConfigError("data.name=csv needs data.target", f"set data.target to one of: {', '.join(header)}")
    targets = [cfg.target] if isinstance(cfg.target, str) else list(cfg.target)
    for name in targets:
        if name not in header:
            raise DataError(f"{cfg.path} has no column {name!r}", did_you_mean(name, header))
    features = [i for i, name in enumerate(header) if name not in targets]
    if not features:
        raise DataError(f"{cfg.path} has no feature columns (all are targets)", "add feature columns to the file")
    y = values[:, [header.index(name) for name in targets]].astype(np.float32)
    x = values[:, features].astype(np.float32)
    return RawData(*holdout(x, y[:, 0] if isinstance(cfg.target, str) else y, cfg.split_seed), targets=targets)
