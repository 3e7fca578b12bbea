"""Reading results back out of run directories."""

from __future__ import annotations

from typing import Any


def best_row(rows: list[dict[str, Any]], best_epoch: int) -> dict[str, Any]:
    """The metrics.csv row of the best epoch (empty when there is none)."""
    return next((r for r in rows if int(r["epoch"]) == best_epoch), {})
