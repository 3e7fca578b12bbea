"""The Optuna study of a sweep: SQLite storage in the sweep directory, the spec's sampler and pruner, and the
bookkeeping of a resume (trials a killed sweep left running)."""

from __future__ import annotations

import logging
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from trainlab.runs import RunDir, read_json
from trainlab.sweeps.layout import SweepDir
from trainlab.sweeps.spec import Choices, SweepSpec

log = logging.getLogger("trainlab")
optuna.logging.set_verbosity(optuna.logging.ERROR)  # the sweep logs each trial's end itself

#: seconds a process waits for the SQLite write lock (the sweep and its trial processes share the file)
LOCK_TIMEOUT_S = 120


def storage(sweep: SweepDir) -> optuna.storages.RDBStorage:
    return optuna.storages.RDBStorage(f"sqlite:///{sweep.study_db}",
                                      engine_kwargs={"connect_args": {"timeout": LOCK_TIMEOUT_S}})


def sampler(spec: SweepSpec) -> optuna.samplers.BaseSampler:
    if spec.method == "grid":
        return optuna.samplers.GridSampler(spec.grid(), seed=spec.seed)
    if spec.method == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    return optuna.samplers.TPESampler(seed=spec.seed)


def pruner(spec: SweepSpec) -> optuna.pruners.BasePruner:
    p = spec.pruning
    if p is None:
        return optuna.pruners.NopPruner()
    if p.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=p.startup_trials, n_warmup_steps=p.warmup_epochs)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=p.min_resource, reduction_factor=p.reduction_factor)


def open_study(spec: SweepSpec, sweep: SweepDir) -> optuna.Study:
    """The sweep's study (created on first use, loaded after)."""
    return optuna.create_study(study_name=spec.name, storage=storage(sweep), sampler=sampler(spec),
                               pruner=pruner(spec), load_if_exists=True,
                               direction="maximize" if spec.objective.direction == "max" else "minimize")


def suggest(trial: optuna.Trial, spec: SweepSpec) -> dict[str, Any]:
    """The trial's parameters, drawn by the sampler (stored in the study before training starts)."""
    out: dict[str, Any] = {}
    for key, dim in spec.space.items():
        if isinstance(dim, Choices):
            out[key] = trial.suggest_categorical(key, dim.grid())
        elif dim.type == "int":
            out[key] = trial.suggest_int(key, int(dim.low), int(dim.high), step=int(dim.step or 1), log=dim.log)
        else:
            out[key] = trial.suggest_float(key, dim.low, dim.high, step=dim.step, log=dim.log)
    return out


def counted(trials: list[FrozenTrial]) -> int:
    """Trials that use up the budget: finished ones, except those a stopped sweep interrupted (they are retried)."""
    return sum(t.state.is_finished() and not t.user_attrs.get("interrupted") for t in trials)


def recover(study: optuna.Study, sweep: SweepDir, metric: str) -> None:
    """Settle the trials a killed sweep left RUNNING (the sweep directory is locked, so none is live):
    one whose run finished (the kill came between its end and the study's record) is recorded as it ended;
    any other is marked FAIL with `interrupted` and its parameters are enqueued again."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        summary = run_summary(sweep, t.number)
        status = summary.get("status")
        value = summary.get(metric)
        if status in ("completed", "early_stopped") and isinstance(value, int | float):
            study.tell(t.number, float(value))
            log.info("trial %d had finished: recorded %s %.4g", t.number, metric, value)
        elif status == "pruned":
            study.tell(t.number, state=TrialState.PRUNED)
        else:
            retry(study, t.number, t.params)
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            log.info("trial %d was interrupted: marked FAIL, its parameters enqueued again", t.number)


def retry(study: optuna.Study, number: int, params: dict[str, Any]) -> None:
    """Mark trial `number` interrupted (not counted in the budget) and enqueue its parameters again."""
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    study._storage.set_trial_user_attr(trial_id, "interrupted", True)
    study.enqueue_trial(params, user_attrs={"retry_of": number}, skip_if_exists=False)


def run_summary(sweep: SweepDir, number: int) -> dict[str, Any]:
    path = RunDir(sweep.trial(number)).summary
    return read_json(path) if path.is_file() else {}


def trial_by_number(study: optuna.Study, number: int) -> optuna.Trial:
    """A live handle on a RUNNING trial (a trial process reports its epochs through it)."""
    return optuna.Trial(study, study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number))
