"""Hyperparameter sweeps on Optuna: a spec (search space, method, objective, budget, pruning) → a study in
SQLite → one run directory per trial → results table, best.yaml and plots (docs/sweeps.md).

The spec and the directory layout load without torch or Optuna (the launchers read them); the sweep itself is
`trainlab.sweeps.runner.run_sweep`."""

from trainlab.sweeps.layout import SweepDir
from trainlab.sweeps.spec import SweepSpec, read_spec

__all__ = ["SweepDir", "SweepSpec", "read_spec"]
