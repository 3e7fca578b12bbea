"""The sweep directory: the contract `trainlab sweep` writes and reports read.

    <sweep>/spec.yaml      the spec as given (its base path made absolute)
    <sweep>/base.yaml      the base config with the spec's overrides (what every trial starts from)
    <sweep>/study.db       the Optuna study (SQLite): every trial's parameters, state, value, epoch values
    <sweep>/sweep.json     name, method, objective, direction, budget, counts, the best trial
    <sweep>/results.csv    one row per trial, best first: trial, status, objective, parameters, run
    <sweep>/results.md     the same as a Markdown table
    <sweep>/best.yaml      the best trial's fully resolved config (`trainlab run best.yaml`)
    <sweep>/plots/         history.png, importances.png (≥ 2 parameters), parallel.png
    <sweep>/runs/trial-NNNN/   one run directory per trial (runs/README: docs/sweeps.md)
    <sweep>/sweep.log      the sweep's log
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SweepDir:
    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).resolve())

    spec = property(lambda self: self.path / "spec.yaml")
    base = property(lambda self: self.path / "base.yaml")
    study_db = property(lambda self: self.path / "study.db")
    info = property(lambda self: self.path / "sweep.json")
    results_csv = property(lambda self: self.path / "results.csv")
    results_md = property(lambda self: self.path / "results.md")
    best = property(lambda self: self.path / "best.yaml")
    plots = property(lambda self: self.path / "plots")
    runs = property(lambda self: self.path / "runs")
    log = property(lambda self: self.path / "sweep.log")

    def trial(self, number: int) -> Path:
        return self.runs / trial_name(number)


def trial_name(number: int) -> str:
    return f"trial-{number:04d}"
