"""`trainlab report`: one self-contained HTML page of run and sweep directories.

A Jinja2 template (templates/report.html.j2, CSS inline) renders the comparison table (the rows of
`runs.compare`, with each run's last-epoch metrics), the config keys that differ (cells that differ
from the first run marked), the runs' curves overlaid, each run's figures from its plots/ (confusion
matrices first, then the diagnosis figures and the task's others) and each sweep's results, best
config and plots. Every image is inlined as a base64 data URI: the file opens anywhere on its own.

A sweep directory holds runs/<trial>/ (run directories) and results.csv (plus results.md, best.yaml,
study.db, plots/*.png); its trials join the comparison as SWEEP/TRIAL.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from trainlab.errors import UserError
from trainlab.report.figures import plot_overlaid_curves
from trainlab.runs import MetricsCSV, RunDir, read_json, read_yaml
from trainlab.runs.compare import METRIC_PREFIXES, RESULT_KEYS, compare_runs, flatten
from trainlab.runs.files import atomic_write_bytes

#: summary fields shown beside each run's name
FACTS = ("best_epoch", "monitor", "seed", "device")


@dataclass
class Run:
    label: str
    dir: RunDir
    summary: dict[str, Any]
    metrics: list[dict[str, Any]]

    @property
    def anchor(self) -> str:
        return "run-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.label)


@dataclass
class Sweep:
    path: Path
    runs: list[Run] = field(default_factory=list)


def is_sweep(path: Path) -> bool:
    return (path / "runs").is_dir() and (path / "results.csv").is_file()


def collect(paths: list[Path]) -> tuple[list[Run], list[Sweep]]:
    """The runs (a sweep's trials included, as SWEEP/TRIAL) and sweeps named by `paths`, each once."""
    runs: dict[Path, Run] = {}
    sweeps: list[Sweep] = []
    for path in paths:
        path = Path(path).resolve()
        if (path / "config.yaml").is_file():
            runs.setdefault(path, _run(RunDir(path), path.name))
        elif is_sweep(path):
            sweep = Sweep(path, [_run(RunDir(p), f"{path.name}/{p.name}")
                                 for p in sorted((path / "runs").iterdir()) if (p / "config.yaml").is_file()])
            sweeps.append(sweep)
            for r in sweep.runs:
                runs.setdefault(r.dir.path, r)
        else:
            raise UserError(f"{path} is neither a run directory (config.yaml) nor a sweep directory "
                            "(runs/ and results.csv)", "pass directories written by `trainlab run` or a sweep")
    if not runs:
        raise UserError("the sweeps given hold no run directories yet", "pass run directories or a finished sweep")
    return list(runs.values()), sweeps


def _run(run: RunDir, label: str) -> Run:
    summary = read_json(run.summary) if run.summary.is_file() else {}
    return Run(label, run, summary, MetricsCSV(run.metrics).read() if run.metrics.is_file() else [])


# ------------------------------------------------------------------ sections
def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "" if v is None else str(v)


def _cell(v: Any, cls: str = "") -> dict[str, Any]:
    number = isinstance(v, int | float) and not isinstance(v, bool)
    return {"text": _fmt(v), "value": json.dumps(v) if number else None,
            "cls": " ".join(c for c in (cls, "num" if number else "") if c)}


def comparison(runs: list[Run]) -> dict[str, Any]:
    """The compare rows' identity and result columns, with each run's last-epoch validation metrics beside the
    best epoch's (the config columns that differ have their own table)."""
    columns, rows = compare_runs([r.dir.path for r in runs])
    shown = [i for i, c in enumerate(columns) if i and (c in RESULT_KEYS or c.startswith(METRIC_PREFIXES)
                                                         or c in ("task.name", "data.name", "model.name"))]
    last = [{f"last_{k}": v for k, v in (r.metrics[-1] if r.metrics else {}).items()
             if k.startswith("val_") and isinstance(v, float)} for r in runs]
    last_cols = list(dict.fromkeys(k for d in last for k in d))
    at = next((i for i, c in enumerate(columns) if c.startswith("test_") or c == "num_params"), len(columns))
    before, after = [i for i in shown if i < at], [i for i in shown if i >= at]
    out_rows = []
    for run, row, extra in zip(runs, rows, last, strict=True):
        cells = [_cell(row[i], f"status-{row[i]}" if columns[i] == "status" else "") for i in before]
        cells += [_cell(extra.get(k)) for k in last_cols] + [_cell(row[i]) for i in after]
        out_rows.append({"label": run.label, "anchor": run.anchor, "cells": cells})
    names = ["run", *(columns[i] for i in before), *last_cols, *(columns[i] for i in after)]
    return {"columns": names, "rows": out_rows}


def config_differences(runs: list[Run]) -> dict[str, Any]:
    """The config keys whose values differ between the runs, shown exactly (a key a run's config lacks: —); a cell
    that differs from the first run's is marked."""
    configs = [flatten(read_yaml(r.dir.config) or {}) for r in runs]
    keys = sorted(k for k in {k for c in configs for k in c} if len({repr(c.get(k)) for c in configs}) > 1)
    rows = [(k, [{"text": str(c[k]) if k in c else "—",
                  "cls": "diff" if repr(c.get(k)) != repr(configs[0].get(k)) else ""} for c in configs])
            for k in keys]
    return {"differing": keys, "rows": rows}


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def curves(runs: list[Run]) -> str | None:
    series = {r.label: r.metrics for r in runs if r.metrics}
    if not series:
        return None
    buf = io.BytesIO()
    plot_overlaid_curves(series).savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return data_uri(buf.getvalue())


def images(folder: Path, skip: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The PNG figures of `folder`, confusion matrices first, as data URIs."""
    files = sorted(folder.glob("*.png"), key=lambda p: (not p.name.startswith("confusion"), p.name)) \
        if folder.is_dir() else []
    return [{"name": p.stem.replace("_", " "), "uri": data_uri(p.read_bytes())} for p in files if p.name not in skip]


def run_section(run: Run) -> dict[str, Any]:
    s = run.summary
    doctor = [d.get("message", str(d)) if isinstance(d, dict) else str(d) for d in s.get("doctor") or []]
    return {"label": run.label, "anchor": run.anchor, "path": str(run.dir.path), "status": s.get("status", "unknown"),
            "facts": [(k, _fmt(s[k])) for k in FACTS if k in s], "failure": s.get("failure"), "doctor": doctor,
            "images": images(run.dir.plots, skip=("curves.png",))}  # the curves are overlaid above


def sweep_section(sweep: Sweep) -> dict[str, Any]:
    """results.csv as a table (a cell naming a trial links to its run), best.yaml, the sweep's plots."""
    with (sweep.path / "results.csv").open(newline="") as f:
        reader = csv.reader(f)
        columns, rows = next(reader, []), list(reader)
    trials = {r.dir.path.name: r.anchor for r in sweep.runs}
    table = [[{"text": _fmt(_number(v)), "cls": "num" if _number(v) is not v else "", "anchor": trials.get(v)}
              for v in row] for row in rows]
    best, study = sweep.path / "best.yaml", sweep.path / "study.db"
    return {"name": sweep.path.name, "path": str(sweep.path), "anchor": "sweep-" + re.sub(r"\W+", "-", sweep.path.name),
            "results": {"columns": columns, "rows": table}, "best": best.read_text() if best.is_file() else None,
            "study": f"study.db ({study.stat().st_size:,} bytes)" if study.is_file() else None,
            "images": images(sweep.path / "plots")}


def _number(v: str) -> Any:
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


# ------------------------------------------------------------------ the page
def render(paths: list[Path]) -> str:
    """The report of the run and sweep directories `paths`, as one HTML document."""
    from trainlab import __version__

    runs, sweeps = collect(paths)
    env = Environment(loader=PackageLoader("trainlab.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    title = "trainlab report: " + ", ".join(Path(p).resolve().name for p in paths)
    return env.get_template("report.html.j2").render(
        title=title, generated=time.strftime("%Y-%m-%d %H:%M"), version=__version__,
        runs=[run_section(r) for r in runs], comparison=comparison(runs), config=config_differences(runs),
        curves=curves(runs), sweeps=[sweep_section(s) for s in sweeps])


def write_report(paths: list[Path], out: Path) -> Path:
    """Render the report of `paths` into `out` (written atomically); returns `out`."""
    out = Path(out)
    if out.is_dir():
        raise UserError(f"--out {out} is a directory", "give a file name, e.g. --out report.html")
    html = render(paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, html.encode())
    umask = os.umask(0)
    os.umask(umask)
    out.chmod(0o666 & ~umask)  # a page to share: the usual file permissions, not the temporary file's 0600
    return out
