"""Long-format CSV records (one row per epoch and layer/block): append, read back, truncate on resume."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


class Records:
    """A CSV with fixed `fields`; the first field is the epoch, `names` is the one text column."""

    def __init__(self, path: Path, fields: Sequence[str], names: str) -> None:
        self.path, self.fields, self.names = Path(path), list(fields), names

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerows({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(newline="") as f:
            return [{k: v if k == self.names else int(v) if k == "epoch" else float(v) for k, v in r.items()}
                    for r in csv.DictReader(f)]

    def truncate(self, epochs: int) -> None:
        """Keep only rows with epoch <= `epochs` (a resumed run redoes the rest)."""
        if not self.path.exists():
            return
        rows = [r for r in self.read() if r["epoch"] <= epochs]
        self.path.unlink()
        self.append(rows)


def last_epoch(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the latest epoch present."""
    if not rows:
        return []
    epoch = max(r["epoch"] for r in rows)
    return [r for r in rows if r["epoch"] == epoch]
