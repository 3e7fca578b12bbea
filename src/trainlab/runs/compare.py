"""Side-by-side rows of several run directories: the config values that differ, and results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.runs.files import read_json, read_yaml
from trainlab.runs.layout import RunDir

RESULT_KEYS = ("status", "epochs_completed", "num_params", "wall_time_s")
#: summary fields of any task's metrics: the best epoch's validation metrics, the test metrics
METRIC_PREFIXES = ("best_val_", "test_")
ALWAYS_SHOWN = ("task.name", "data.name", "model.name")


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flatten(v, key + ".")
        else:
            out[key] = v
    return out


def compare_runs(paths: list[Path | str]) -> tuple[list[str], list[list[Any]]]:
    """(column names, one row per run): identity, differing config values, results (whatever metrics the runs'
    tasks report)."""
    runs = [RunDir.open(Path(p)) for p in paths]
    configs = [flatten(read_yaml(r.config)) for r in runs]
    summaries = [read_json(r.summary) if r.summary.is_file() else {} for r in runs]
    keys = sorted({k for c in configs for k in c})
    differing = [k for k in keys if k not in ALWAYS_SHOWN and len({repr(c.get(k)) for c in configs}) > 1]
    config_cols = [*ALWAYS_SHOWN, *differing]
    metric_cols = list(dict.fromkeys(k for s in summaries for k, v in s.items()
                                      if k.startswith(METRIC_PREFIXES) and isinstance(v, int | float)))
    result_cols = [*RESULT_KEYS[:2], *metric_cols, *RESULT_KEYS[2:]]
    columns = ["run", *config_cols, *result_cols]
    rows = [
        [r.path.name, *(c.get(k) for k in config_cols), *(s.get(k) for k in result_cols)]
        for r, c, s in zip(runs, configs, summaries, strict=True)
    ]
    return columns, rows
