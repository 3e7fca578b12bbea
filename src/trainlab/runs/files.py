"""Readers and writers for the run directory's text files (atomic where it matters)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from trainlab import yamlfile


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same directory, fsync, then rename over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def write_yaml(path: Path, obj: Mapping[str, Any]) -> None:
    atomic_write_bytes(path, yaml.safe_dump(dict(obj), sort_keys=False).encode())


def read_yaml(path: Path) -> dict[str, Any]:
    return yamlfile.safe_load(Path(path).read_text()) or {}


class MetricsCSV:
    """Appends one row per epoch; the header is fixed by the first row written."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, row: Mapping[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        fields = list(row) if new else self.read_header()
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: _fmt(row.get(k)) for k in fields})

    def read_header(self) -> list[str]:
        with self.path.open(newline="") as f:
            return next(csv.reader(f))

    def read(self) -> list[dict[str, float | str]]:
        if not self.path.exists():
            return []
        with self.path.open(newline="") as f:
            return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(f)]

    def truncate(self, epochs: int) -> None:
        """Keep only rows with epoch <= `epochs` (used when resuming)."""
        rows = [r for r in self.read() if int(r["epoch"]) <= epochs]
        if not self.path.exists():
            return
        header = self.read_header()
        self.path.unlink()
        for r in rows:
            self.append({k: r.get(k) for k in header})


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else v


def _parse(v: str) -> float | str:
    try:
        return float(v)
    except (TypeError, ValueError):
        return v
