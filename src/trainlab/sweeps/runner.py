"""`trainlab sweep`: create or resume a sweep directory, run the study's trials until the budget is spent
(one after another in this process, or --jobs N trial processes at once), then write the results."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from rich.console import Console
from rich.logging import RichHandler

from trainlab.errors import RunDirError, UserError
from trainlab.runs import RunLock, read_yaml, write_yaml
from trainlab.runs.log import log_to
from trainlab.sweeps.layout import SweepDir
from trainlab.sweeps.results import Results, status_of, write_results
from trainlab.sweeps.spec import SweepSpec, base_config, read_spec
from trainlab.sweeps.study import counted, open_study, recover, retry, run_summary, suggest
from trainlab.sweeps.trial import TrialFailed, failed, outcome, run_trial

log = logging.getLogger("trainlab.sweep")


@dataclass
class SweepResult:
    path: Path
    status: str  # completed | interrupted
    results: Results


def create(spec_path: Path, out: Path | None = None) -> tuple[SweepDir, SweepSpec]:
    """A new sweep directory holding the spec and its base config (checked before anything is written)."""
    spec = read_spec(spec_path)
    base = base_config(spec, Path(spec_path))
    sweep = SweepDir(out or Path("sweeps") / str(spec.name))
    if sweep.study_db.exists():
        raise RunDirError(f"sweep directory {sweep.path} already holds a study",
                          f"continue it with `trainlab sweep --resume {sweep.path}` or pick another --out")
    sweep.runs.mkdir(parents=True, exist_ok=True)
    raw = spec.model_dump(mode="json", exclude_none=True)
    if spec.base:
        raw["base"] = str((Path(spec_path).parent / spec.base).resolve())
    write_yaml(sweep.spec, raw)
    write_yaml(sweep.base, base)
    return sweep, spec


def open_sweep(path: Path) -> tuple[SweepDir, SweepSpec]:
    sweep = SweepDir(path)
    if not (sweep.spec.is_file() and sweep.base.is_file()):
        raise RunDirError(f"{sweep.path} is not a sweep directory (no spec.yaml/base.yaml)",
                          "pass a directory written by `trainlab sweep`")
    return sweep, SweepSpec.model_validate(read_yaml(sweep.spec))


def run_sweep(spec_path: Path | None = None, out: Path | None = None, resume: Path | None = None, jobs: int = 1,
              console: Console | None = None) -> SweepResult:
    """Run (or continue) a sweep; the results are written even when it is interrupted."""
    console = console or Console()
    new = resume is None
    if spec_path is not None and resume is not None:
        raise UserError("both a spec and --resume given", "a resumed sweep reads its own spec.yaml: drop SPEC")
    if new:
        if spec_path is None:
            raise UserError("no sweep spec given", "pass SPEC.yaml, or --resume DIR to continue a sweep")
        sweep, spec = create(spec_path, out)
    else:
        sweep, spec = open_sweep(resume)
    base = read_yaml(sweep.base)
    metric = spec.objective.metric
    handler = RichHandler(console=console, show_path=False, show_level=False, markup=False, log_time_format="[%X]")
    with RunLock(sweep.path), log_to(log, sweep.log, handler):
        study = open_study(spec, sweep)
        if new:
            for params in spec.enqueue:
                study.enqueue_trial(params)
        recover(study, sweep, metric)
        remaining = spec.budget() - counted(study.get_trials(deepcopy=False))
        log.info("sweep %s: %s, %d of %d trials to run%s", sweep.path, spec.method, max(remaining, 0),
                 spec.budget(), f", {jobs} at a time" if jobs > 1 else "")
        status = "completed"
        try:
            if remaining > 0:
                if jobs == 1:
                    objective, signals = _in_process(sweep, spec, base, console), contextlib.nullcontext()
                else:
                    objective = TrialProcesses(sweep, spec, jobs)
                    signals = objective.forwarding()
                with signals:
                    study.optimize(objective, n_trials=remaining, n_jobs=jobs, catch=(TrialFailed,),
                                   callbacks=[_log_trial])
        except KeyboardInterrupt:
            status = "interrupted"
            log.warning("sweep interrupted: continue with `trainlab sweep --resume %s`", sweep.path)
        results = write_results(sweep, spec, study)
    return SweepResult(sweep.path, status, results)


def _log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    value = f" {trial.value:.4g}" if trial.state == optuna.trial.TrialState.COMPLETE else ""
    why = f" ({trial.user_attrs['failure']})" if "failure" in trial.user_attrs else ""
    log.info("trial %d %s%s%s  %s", trial.number, status_of(trial), value, why,
             "  ".join(f"{k}={v}" for k, v in trial.params.items()))


def _in_process(sweep: SweepDir, spec: SweepSpec, base: dict[str, Any], console: Console):  # type: ignore[no-untyped-def]
    def objective(trial: optuna.Trial) -> float:
        suggest(trial, spec)
        try:
            summary = run_trial(sweep, spec, base, trial, console)
        except KeyboardInterrupt:  # before or after the loop (the loop itself returns status interrupted)
            summary = {"status": "interrupted"}
        if summary.get("status") == "interrupted":
            retry(trial.study, trial.number, trial.params)
            raise KeyboardInterrupt
        return outcome(trial, summary, spec.objective.metric)

    return objective


class TrialProcesses:
    """The objective of `--jobs N`: each trial in a process of its own (torch threads split between the jobs);
    this process asks the sampler and records the results. While it runs, a Ctrl-C or SIGTERM here is passed on
    to the trial processes, which stop like a run does (checkpoint kept, status interrupted)."""

    def __init__(self, sweep: SweepDir, spec: SweepSpec, jobs: int) -> None:
        self.sweep, self.spec = sweep, spec
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.threads = max(1, cores // jobs)
        self.live: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def __call__(self, trial: optuna.Trial) -> float:
        suggest(trial, self.spec)
        cmd = [sys.executable, "-m", "trainlab.sweeps.trial", str(self.sweep.path), str(trial.number),
               str(self.threads)]
        with self.lock:
            if self.stopping.is_set():
                raise KeyboardInterrupt
            proc = subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": str(self.threads)},
                                    stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            self.live.add(proc)
        code = proc.wait()
        with self.lock:
            self.live.discard(proc)
        summary = run_summary(self.sweep, trial.number)
        if self.stopping.is_set() or summary.get("status") == "interrupted":
            retry(trial.study, trial.number, trial.params)
            raise KeyboardInterrupt
        if code == 2:
            raise UserError(f"trial {trial.number} was refused (its error is above)", "fix the spec")
        if summary.get("status") in (None, "running"):
            raise failed(trial, f"the trial process ended with code {code}")
        return outcome(trial, summary, self.spec.objective.metric)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping.set()
        with self.lock:
            for proc in self.live:
                proc.send_signal(signal.SIGTERM)
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def forwarding(self) -> Iterator[None]:
        old = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def _die_with_parent() -> None:
    """Linux: the trial process gets SIGTERM when the sweep process dies (even by SIGKILL), so no trial
    outlives its sweep and a resume finds no live trial."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
