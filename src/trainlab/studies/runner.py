"""Run a study (variants × seeds) and write its comparison: summary.md, study.json, curves.png, gradflow.png."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from trainlab import api
from trainlab.config import load_config
from trainlab.diagnose import gradflow
from trainlab.diagnose.records import Records
from trainlab.errors import ConfigError, UserError
from trainlab.registry import did_you_mean
from trainlab.runs import MetricsCSV, RunDir, write_json
from trainlab.studies.aggregate import Band, curve_bands, epochs_to_fraction, fmt, mean_std
from trainlab.studies.figures import plot_bands, plot_gradflow_grid
from trainlab.studies.seeds import SeedsResult, finished, run_seeds
from trainlab.studies.study import Study

# (column title, statistic, format): the comparison table, mean ± std over seeds
COLUMNS = (
    ("best val acc", "best_val_acc", ".4f"),
    ("test acc", "test_acc", ".4f"),
    ("final train acc", "final_train_acc", ".4f"),
    ("epochs to 90% of best val acc", "epochs_to_90", ".1f"),
    ("first-layer mean abs grad", "grad_first_mean_abs", ".1e"),
    ("first/last grad ratio", "grad_first_last_ratio", ".1e"),
    ("train time s", "wall_time_s", ".0f"),
)
CURVES = ("train_loss", "train_acc", "val_acc")
TASK_FIGURES = ("decision_boundary.png", "bands.png", "confusion*.png")  # linked per variant (its first seed)
INIT_FROM = "train.init_from="


@dataclass
class StudyResult:
    path: Path
    rows: list[dict[str, Any]]  # one per variant: variant, seeds, status, stats, doctor

    @property
    def status(self) -> str:
        """'completed' when every run completed, else the first other status."""
        return next((r["status"] for r in self.rows if r["status"] != "completed"), "completed")


def run_study(study: Study, seeds: Sequence[int], out: Path | str = "runs", overrides: Sequence[str] = (),
              variants: Sequence[str] | None = None, console: Console | None = None) -> StudyResult:
    """Every chosen variant over `seeds` into out/<study>/ (completed runs are reused), then the comparison."""
    chosen = list(variants or study.variants)
    for v in chosen:
        if v not in study.variants:
            raise ConfigError(f"study {study.name} has no variant {v!r}", did_you_mean(v, list(study.variants)))
    path = Path(out) / study.name
    start = source_run(study, path, tuple(overrides), console)
    overrides = [o for o in overrides if not (study.source and o.startswith(INIT_FROM))]  # the caller's is `start`
    results: dict[str, SeedsResult] = {}
    datasets: dict[str, str] = {}
    for v in chosen:
        cfg = load_config(None, study.overrides(v, tuple(overrides), start))
        datasets[v] = cfg.data.name
        results[v] = run_seeds(cfg, seeds, name=v, out=path, console=console, reuse=True)
        if results[v].status == "interrupted":  # write the comparison so far; a rerun reuses what completed
            break
    rows = [variant_row(v, r) | {"data": datasets[v], "references": reference_rows(study, v, r)}
            for v, r in results.items()]
    data = ", ".join(dict.fromkeys(datasets.values()))
    write_json(path / "study.json", {"study": study.name, "data": data, "seeds": list(seeds),
                                     "overrides": list(overrides), "start": list(start), "rows": rows})
    write_markdown(path / "summary.md", study, rows, data, seeds, [*start, *overrides])
    histories = {v: [MetricsCSV(RunDir(run.run_dir).metrics).read() for run in r.runs] for v, r in results.items()}
    bands = {v: curve_bands(h) for v, h in histories.items()}
    panels: dict[str, dict[str, Band]] = {k: {v: b[k] for v, b in bands.items() if k in b} for k in CURVES}
    over = f"mean ± std over {len(seeds)} seeds" if len(seeds) > 1 else f"seed {seeds[0]}"
    plot_bands(panels, path / "curves.png", title=f"{study.name} on {data} ({over})")
    flows = {v: Records(r.runs[0].run_dir / "gradflow.csv", gradflow.FIELDS, "layer").read()
             for v, r in results.items()}
    plot_gradflow_grid({v: f for v, f in flows.items() if f}, path / "gradflow.png",
                       title=f"gradient flow, seed {seeds[0]} (one line per epoch)")
    return StudyResult(path, rows)


def source_run(study: Study, path: Path, overrides: tuple[str, ...], console: Console | None) -> tuple[str, ...]:
    """`train.init_from=<the study's source run>`, trained first into path/source (reused when complete), or the
    caller's train.init_from; nothing when the study has no source."""
    given = tuple(o for o in overrides if o.startswith(INIT_FROM))
    if not study.source or given:
        return given[-1:]
    cfg = load_config(None, study.source_overrides(overrides))
    result = finished(path / "source", cfg) or api.run(cfg, name="source", out=path, overwrite=True, console=console)
    if result.status != "completed":
        raise UserError(f"the source run of study {study.name} ended {result.status}",
                        "rerun the study (it is retrained), or pass train.init_from=RUN_DIR")
    return (f"{INIT_FROM}{Path(result.run_dir).resolve()}",)


def variant_row(variant: str, result: SeedsResult) -> dict[str, Any]:
    """The table row of one variant: summary statistics plus curve-derived ones, and the doctor's rules."""
    histories = [MetricsCSV(RunDir(run.run_dir).metrics).read() for run in result.runs]
    finals = [h[-1]["train_acc"] for h in histories if h and isinstance(h[-1].get("train_acc"), float)]
    to_90 = [e for h in histories if (e := epochs_to_fraction(h)) is not None]
    stats = dict(result.metrics)
    stats["final_train_acc"] = mean_std(finals) if finals else None
    stats["epochs_to_90"] = mean_std(to_90) if to_90 else None
    doctor = sorted({f["rule"] for run in result.runs for f in run.summary.get("doctor", [])})
    return {"variant": variant, "seeds": len(result.runs), "status": result.status, "run": result.runs[0].run_dir.name,
            "stats": {key: stats.get(key) for _, key, _ in COLUMNS}, "doctor": doctor}


def reference_rows(study: Study, variant: str, result: SeedsResult) -> list[dict[str, Any]]:
    """The variant's own value of each metric a published figure is given for, beside that figure."""
    return [{"metric": ref.metric, "ours": result.metrics.get(ref.metric), "reference": ref.value, "note": ref.note}
            for ref in study.references if ref.variant == variant]


REFERENCE_HEAD = ["variant", "data", "metric", "trainlab", "reference", "what differs"]


def reference_cells(row: dict[str, Any]) -> list[list[str]]:
    """Table cells of a row's published figures: one line per metric."""
    return [[row["variant"], row["data"], ref["metric"], fmt(ref["ours"]), f"{ref['reference']:.4f}", ref["note"]]
            for ref in row["references"]]


def write_markdown(path: Path, study: Study, rows: list[dict[str, Any]], data: str, seeds: Sequence[int],
                   overrides: Sequence[str]) -> None:
    head = ["variant", *(title for title, _, _ in COLUMNS), "doctor"]
    lines = [
        f"# Study {study.name}", "", study.description, "",
        f"- data: {data}; seeds: {', '.join(map(str, seeds))}; written {time.strftime('%Y-%m-%d %H:%M')}",
        f"- overrides: {' '.join(overrides) or '(none)'}", "",
    ]
    cited = [cells for row in rows for cells in reference_cells(row)]
    if cited:
        lines += ["Against the published figures (mean ± std over seeds):", "",
                  "| " + " | ".join(REFERENCE_HEAD) + " |", "|" + "---|" * len(REFERENCE_HEAD),
                  *("| " + " | ".join(cells) + " |" for cells in cited), "", "Every variant:", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [fmt(row["stats"][key], spec) for _, key, spec in COLUMNS]
        status = "" if row["status"] == "completed" else f" ({row['status']})"
        lines.append(f"| {row['variant']}{status} | " + " | ".join(cells) + f" | {', '.join(row['doctor']) or '–'} |")
    lines += ["", "![curves](curves.png)", "", "![gradient flow](gradflow.png)", ""]
    for row in rows:
        figures = sorted(f for pattern in TASK_FIGURES for f in (path.parent / row["run"] / "plots").glob(pattern))
        lines += [f"![{row['variant']}: {f.stem}]({f.relative_to(path.parent).as_posix()})" for f in figures]
    path.write_text("\n".join(lines) + "\n")
