"""Hyperparameter sweeps on Optuna: a spec (search space, method, objective, budget, pruning) → a study in
SQLite → one run directory per trial → results table, best.yaml and plots (docs/sweeps.md)."""

from trainlab.sweeps.layout import SweepDir
from trainlab.sweeps.runner import SweepResult, run_sweep
from trainlab.sweeps.spec import SweepSpec, read_spec

__all__ = ["SweepDir", "SweepResult", "SweepSpec", "read_spec", "run_sweep"]
