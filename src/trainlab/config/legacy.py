"""Configs written before the task options moved into the `task` section still load.

Run directories keep their config.yaml for good: `trainlab resume`, `eval` and `sample` must read the
ones written with `train.teacher_forcing`, `decode`, `data.math` and `data.text.seq_len`.
"""

from __future__ import annotations

from typing import Any

#: old dotted key → key inside the task section
MOVED = {
    ("train", "teacher_forcing"): "teacher_forcing",
    ("decode",): "decode",
    ("data", "math"): "math",
    ("data", "text", "seq_len"): "seq_len",
}


def migrate(raw: dict[str, Any], task_fields: set[str]) -> dict[str, Any]:
    """Move old keys into `raw["task"]` (a mapping) when the task has that option, else drop them (old files
    wrote every section for every task); a key already in the task section wins."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    task = out["task"]
    for path, key in MOVED.items():
        parent = out
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent.get(part), dict) else None
            if parent is None:
                break
        if parent is None or path[-1] not in parent:
            continue
        value = parent.pop(path[-1])
        if key in task_fields:
            task.setdefault(key, value)
    if isinstance(out.get("data"), dict) and out["data"].get("text") == {}:
        del out["data"]["text"]
    return out
