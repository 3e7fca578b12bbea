"""One trial: the trial's config trained by `api.run` into <sweep>/runs/trial-NNNN, in the sweep's process
(--jobs 1) or in a trial process of its own (`python -m trainlab.sweeps.trial SWEEP NUMBER THREADS`)."""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Any

import optuna
from rich.console import Console

from trainlab import api
from trainlab.engine.callbacks import Callback
from trainlab.errors import ConfigError, UserError
from trainlab.runs import read_yaml
from trainlab.sweeps.layout import SweepDir, trial_name
from trainlab.sweeps.spec import SweepSpec
from trainlab.sweeps.study import open_study, run_summary, trial_by_number

if TYPE_CHECKING:
    from trainlab.engine.trainer import Trainer


class TrialFailed(Exception):
    """The trial's run failed (e.g. a NaN loss) or its process died: recorded as FAIL, the sweep goes on."""


def failed(trial: optuna.Trial, reason: str) -> TrialFailed:
    """The exception that records the trial as FAIL, its reason kept as the user attribute `failure`."""
    trial.set_user_attr("failure", reason)
    return TrialFailed(reason)


class Pruning(Callback):
    """Reports the per-epoch metric to the Optuna trial; when the pruner says so, the trainer ends the run after
    this epoch with status `pruned` (its row and checkpoint written, no test pass)."""

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        self.trial, self.metric = trial, metric

    def on_fit_start(self, trainer: Trainer) -> None:
        try:
            self.metric = trainer.task.monitored(self.metric)[0]
        except ConfigError as e:
            raise ConfigError(f"pruning.metric {self.metric} is not a metric of this sweep's task", e.fix) from None

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        value = float(row[self.metric])
        self.trial.report(value, row["epoch"])
        if self.trial.should_prune():
            trainer.request_stop("pruned", f"{self.metric} {value:.4f} is below the pruner's bar for epoch "
                                           f"{row['epoch']}")


def run_trial(sweep: SweepDir, spec: SweepSpec, base: dict[str, Any], trial: optuna.Trial,
              console: Console | None = None) -> dict[str, Any]:
    """Train the trial's config; returns its summary.json."""
    cfg = spec.trial_config(base, trial.params)
    callbacks = (Pruning(trial, spec.pruning_metric()),) if spec.pruning else ()
    return api.run(cfg, name=trial_name(trial.number), out=sweep.runs, console=console, callbacks=callbacks).summary


def outcome(trial: optuna.Trial, summary: dict[str, Any], metric: str) -> float:
    """The objective value of a finished trial run, or the exception that records how it ended."""
    status = summary.get("status")
    if status == "pruned":
        raise optuna.TrialPruned(f"pruned at epoch {summary.get('epochs_completed')}")
    if status == "failed":
        raise failed(trial, summary.get("failure", "the run failed"))
    if status not in ("completed", "early_stopped"):
        raise failed(trial, f"the trial's run ended with status {status or 'unknown'}")
    value = summary.get(metric)
    if not isinstance(value, int | float) or isinstance(value, bool):
        numeric = [k for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        raise ConfigError(f"objective.metric {metric} is not in trial {trial.number}'s summary.json",
                          f"use one of: {', '.join(numeric)}")
    return float(value)


def main(argv: list[str]) -> int:
    """A trial process: open the study, take the trial the sweep asked for, train it (its result is read back
    from the run directory's summary.json). SIGTERM ends it like Ctrl-C: checkpoint kept, status interrupted."""
    sweep, number, threads = SweepDir(argv[0]), int(argv[1]), int(argv[2])

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    import torch

    torch.set_num_threads(threads)
    spec = SweepSpec.model_validate(read_yaml(sweep.spec))
    try:
        study = open_study(spec, sweep)
        run_trial(sweep, spec, read_yaml(sweep.base), trial_by_number(study, number),
                  Console(file=open(os.devnull, "w")))  # noqa: SIM115 - the trial's log is its train.log
    except UserError as e:
        print(f"error: trial {number}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0 if run_summary(sweep, number).get("status") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
