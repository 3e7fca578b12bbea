"""One config over several seeds: sibling run directories <name>-seed<k> and an aggregate <name>-seeds/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from trainlab import api
from trainlab.config import Config, config_to_dict, validate
from trainlab.runs import MetricsCSV, RunDir, read_json, read_yaml, write_json
from trainlab.studies.aggregate import aggregate, curve_bands, fmt
from trainlab.studies.figures import plot_bands


@dataclass
class SeedsResult:
    runs: list[api.RunResult]
    path: Path  # the aggregate directory
    metrics: dict[str, dict[str, Any]]  # summary field → mean, std, values

    @property
    def status(self) -> str:
        """'completed' when every seed completed, else the first other status."""
        return next((r.status for r in self.runs if r.status != "completed"), "completed")


def run_seeds(cfg: Config, seeds: Sequence[int], name: str | None = None, out: Path | str = "runs",
              overwrite: bool = False, console: Console | None = None, reuse: bool = False) -> SeedsResult:
    """Train `cfg` once per seed, then aggregate. `reuse` keeps completed runs of the same config.
    An interrupted run ends the series (the aggregate covers the runs so far)."""
    name = name or api.default_name(cfg)
    runs = []
    for seed in seeds:
        raw = config_to_dict(cfg)
        raw["train"] |= {"seed": seed, "seeds": None}
        seeded = validate(raw)
        run_name = f"{name}-seed{seed}"
        done = finished(Path(out) / run_name, seeded) if reuse else None
        runs.append(done or api.run(seeded, name=run_name, out=out, overwrite=overwrite or reuse, console=console))
        if runs[-1].status == "interrupted":  # Ctrl-C / SIGTERM stops the whole series, not just this run
            break
    path = Path(out) / f"{name}-seeds"
    return SeedsResult(runs, path, write_aggregate(path, runs, title=name))


def finished(path: Path, cfg: Config) -> api.RunResult | None:
    """The completed run of exactly `cfg` at `path`, if there is one."""
    run = RunDir(path.resolve())
    if not (run.summary.is_file() and run.config.is_file()):
        return None
    summary = read_json(run.summary)
    if summary.get("status") != "completed" or validate(read_yaml(run.config)) != cfg:
        return None
    return api.RunResult(run.path, "completed", summary)


def write_aggregate(path: Path, runs: Sequence[api.RunResult], title: str = "") -> dict[str, dict[str, Any]]:
    """aggregate.json, aggregate.md and curves.png (mean ± std bands) of the runs."""
    path.mkdir(parents=True, exist_ok=True)
    metrics = aggregate([r.summary for r in runs])
    write_json(path / "aggregate.json", {"runs": [r.run_dir.name for r in runs],
                                         "seeds": [r.summary.get("seed") for r in runs], "metrics": metrics})
    seeds = f"{len(runs)} seeds" if len(runs) > 1 else "1 seed"
    lines = [f"# {title or path.name}: {seeds}", "", "| metric | mean ± std | values |", "|---|---|---|"]
    for key, stat in metrics.items():
        spec = ".2e" if 0 < abs(stat["mean"]) < 1e-3 else ".4f"
        values = ", ".join(format(v, ".4g") for v in stat["values"])
        lines.append(f"| {key} | {fmt(stat, spec)} | {values} |")
    (path / "aggregate.md").write_text("\n".join(lines) + "\n")
    bands = curve_bands([MetricsCSV(RunDir(r.run_dir).metrics).read() for r in runs])
    panels: dict[str, dict[str, Any]] = {}
    for key, band in bands.items():
        split, metric = key.split("_", 1)
        panels.setdefault(metric, {})[split] = band
    if panels:
        over = f"mean ± std over {seeds}" if len(runs) > 1 else seeds
        plot_bands(panels, path / "curves.png", title=f"{title or path.name} ({over})")
    return metrics
