"""A sweep's results: one row per trial sorted by the objective (results.csv, results.md, a rich table),
best.yaml (the best trial's resolved config), sweep.json and the plots."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.table import Table

from trainlab.runs import RunDir, write_json
from trainlab.runs.files import atomic_write_bytes
from trainlab.sweeps.figures import plot_study
from trainlab.sweeps.layout import SweepDir, trial_name
from trainlab.sweeps.spec import SweepSpec
from trainlab.sweeps.study import counted, run_summary

#: the trial's state as the results name it (a FAIL that a stopped sweep caused is `interrupted`)
STATUS = {TrialState.COMPLETE: "completed", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
          TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}


@dataclass
class Results:
    columns: list[str]
    rows: list[dict[str, Any]]  # best first
    best: dict[str, Any] | None

    def table(self, title: str = "") -> Table:
        table = Table(*self.columns, title=title)
        for row in self.rows:
            table.add_row(*(_fmt(row.get(c)) for c in self.columns))
        return table


def status_of(t: FrozenTrial) -> str:
    return "interrupted" if t.user_attrs.get("interrupted") else STATUS[t.state]


def collect(sweep: SweepDir, spec: SweepSpec, study: optuna.Study) -> Results:
    metric = spec.objective.metric
    columns = ["trial", "status", metric, *spec.space, "epochs", "wall_time_s", "run"]
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.WAITING:
            continue
        summary = run_summary(sweep, t.number)
        value = t.value if t.state == TrialState.COMPLETE else None  # a pruned trial's is an epoch's, not the objective
        row = {"trial": t.number, "status": status_of(t), metric: value, **t.params,
               "epochs": summary.get("epochs_completed"), "wall_time_s": summary.get("wall_time_s"),
               "run": f"runs/{trial_name(t.number)}" if sweep.trial(t.number).is_dir() else ""}
        rows.append(row)
    sign = -1 if spec.objective.direction == "max" else 1
    rows.sort(key=lambda r: (r[metric] is None, sign * (r[metric] or 0), r["trial"]))
    best = rows[0] if rows and rows[0][metric] is not None else None
    return Results(columns, rows, best)


def write_results(sweep: SweepDir, spec: SweepSpec, study: optuna.Study) -> Results:
    """results.csv, results.md, sweep.json, best.yaml and plots/ from the study as it stands."""
    res = collect(sweep, spec, study)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=res.columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in res.rows)
    atomic_write_bytes(sweep.results_csv, buf.getvalue().encode())
    atomic_write_bytes(sweep.results_md, markdown(spec, res).encode())
    trials = study.get_trials(deepcopy=False)
    counts = {s: sum(r["status"] == s for r in res.rows) for s in ("completed", "pruned", "failed", "interrupted")}
    write_json(sweep.info, {
        "name": spec.name, "method": spec.method, "objective": spec.objective.metric,
        "direction": spec.objective.direction, "budget": spec.budget(), "finished": counted(trials),
        "counts": counts, "params": list(spec.space),
        "best": None if res.best is None else {"trial": res.best["trial"], "value": res.best[spec.objective.metric],
                                               "params": {k: res.best.get(k) for k in spec.space},
                                               "run": res.best["run"]},
    })
    if res.best is not None:
        shutil.copyfile(RunDir(sweep.trial(res.best["trial"])).config, sweep.best)
    plot_study(study, list(spec.space), spec.objective.metric, sweep.plots)
    return res


def markdown(spec: SweepSpec, res: Results) -> str:
    goal = f"{spec.objective.direction} {spec.objective.metric}"
    lines = [f"# Sweep {spec.name}", "", f"- method: {spec.method} (seed {spec.seed}); objective: {goal}; "
             f"budget: {spec.budget()} trials", ""]
    lines += ["| " + " | ".join(res.columns) + " |", "|" + "---|" * len(res.columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c)) for c in res.columns) + " |" for row in res.rows]
    if res.best is not None:
        value = _fmt(res.best[spec.objective.metric])
        lines += ["", f"Best: trial {res.best['trial']} ({spec.objective.metric} {value}); "
                      "its config is best.yaml (`trainlab run best.yaml`)."]
    return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)
