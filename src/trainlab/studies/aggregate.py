"""Statistics over runs: mean ± std of summary fields, per-epoch curve bands, epochs to a target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NOT_METRICS = {"seed", "best_epoch", "epochs_completed"}


@dataclass(frozen=True)
class Band:
    """A curve's per-epoch mean and standard deviation over runs."""

    epochs: list[int]
    mean: np.ndarray
    std: np.ndarray


def mean_std(values: Sequence[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one value) and the values themselves."""
    a = np.asarray(values, dtype=float)
    std = float(a.std(ddof=1)) if len(a) > 1 else 0.0
    return {"mean": float(a.mean()), "std": std, "values": [float(v) for v in a]}


def aggregate(summaries: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """mean_std of every numeric top-level summary field that all runs have (the seed excepted)."""
    def numeric(s: dict[str, Any]) -> dict[str, float]:
        return {k: v for k, v in s.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and k not in NOT_METRICS}

    fields = [numeric(s) for s in summaries]
    shared = [k for k in fields[0] if all(k in f for f in fields)] if fields else []
    return {k: mean_std([f[k] for f in fields]) for k in shared}


def curve_bands(histories: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Band]:
    """Per train_*/val_* metric: mean and std over runs at each epoch any run reached."""
    keys = list(dict.fromkeys(k for rows in histories for r in rows for k in r if k.startswith(("train_", "val_"))))
    bands = {}
    for key in keys:
        per_epoch: dict[int, list[float]] = {}
        for rows in histories:
            for r in rows:
                if isinstance(r.get(key), float) and math.isfinite(r[key]):
                    per_epoch.setdefault(int(r["epoch"]), []).append(r[key])
        if per_epoch:
            epochs = sorted(per_epoch)
            stats = [mean_std(per_epoch[e]) for e in epochs]
            bands[key] = Band(epochs, np.array([s["mean"] for s in stats]), np.array([s["std"] for s in stats]))
    return bands


def epochs_to_fraction(rows: Sequence[dict[str, Any]], key: str = "val_acc", fraction: float = 0.9) -> int | None:
    """The first epoch whose `key` reaches `fraction` of the run's best."""
    values = [(int(r["epoch"]), r[key]) for r in rows if isinstance(r.get(key), float)]
    if not values:
        return None
    best = max(v for _, v in values)
    return next(e for e, v in values if v >= fraction * best)


def fmt(stat: dict[str, Any] | None, spec: str = ".4f") -> str:
    """'mean ± std' (just the mean for one run); '–' when missing."""
    if stat is None:
        return "–"
    text = format(stat["mean"], spec)
    return text if len(stat["values"]) < 2 else f"{text} ± {format(stat['std'], spec)}"
