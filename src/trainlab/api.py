"""The Python API the CLI mirrors: run, resume, evaluate — the whole pipeline in one place.

    config → data → model → engine → run directory → reports
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.logging import RichHandler
from torch import nn

from trainlab.config import Config, config_to_dict, validate
from trainlab.diagnose import Diagnosis
from trainlab.engine import Task, Trainer, distributed, load_checkpoint
from trainlab.engine.callbacks import Callback, MetricsFile, ProgressBar, TensorBoard
from trainlab.engine.device import describe_device, resolve_device, seed_everything, versions
from trainlab.engine.graphs import check_graphs
from trainlab.engine.init_from import init_weights, loads_whole, run_task, source_run, take_backbone
from trainlab.errors import ConfigError
from trainlab.evaluation import evaluate
from trainlab.models import count_params
from trainlab.models.pretrained import torchvision_resnet
from trainlab.models.resnet import ResNet
from trainlab.models.transfer import apply_strategy
from trainlab.report import plot_curves
from trainlab.runs import MetricsCSV, RunDir, RunLock, read_yaml, write_json, write_yaml
from trainlab.runs.log import log_to, warnings_to
from trainlab.runs.summary import best_row
from trainlab.runs.timing import process_age, timing_line
from trainlab.tasks import TASKS

log = logging.getLogger("trainlab")


@dataclass
class RunResult:
    run_dir: Path
    status: str
    summary: dict[str, Any]
    rank: int = 0  # under torchrun: the process's rank (rank 0 alone writes the run directory)

    @property
    def test_acc(self) -> float | None:
        return self.summary.get("test_acc")


def default_name(cfg: Config) -> str:
    return f"{cfg.data.name}-{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(cfg: Config, name: str | None = None, out: Path | str = "runs", overwrite: bool = False,
        console: Console | None = None, callbacks: tuple[Callback, ...] = ()) -> RunResult:
    """Train `cfg` into a fresh run directory `out/name` (one seed: `train.seeds` is `studies.run_seeds`'s)."""
    if cfg.train.seeds:
        raise ConfigError(f"train.seeds={cfg.train.seeds} asks for one run per seed",
                          "use trainlab.studies.run_seeds(cfg, cfg.train.seeds) or `trainlab run`")
    start = prepare_start(cfg)  # data and weight problems surface before anything on disk is touched
    path = Path(out) / (name or default_name(cfg))
    if not distributed.is_main():  # ── DDP: rank 0 alone makes and writes the run directory
        return _train_share(cfg, RunDir(path.resolve()), None, start)
    run_dir = RunDir.create(path, overwrite=overwrite)
    write_yaml(run_dir.config, config_to_dict(cfg))
    return _train(cfg, run_dir, resume_from=None, console=console, extra_callbacks=callbacks, start=start)


def resume(path: Path | str, console: Console | None = None) -> RunResult:
    """Continue a run from its last checkpoint, exactly where it stopped."""
    run_dir = RunDir.open(Path(path))
    cfg = validate(read_yaml(run_dir.config))
    last = run_dir.checkpoint("last")
    state = load_checkpoint(last) if last.is_file() else None
    start = prepare_start(cfg, fresh=state is None)
    if not distributed.is_main():  # ── DDP: every rank reads the checkpoint, rank 0 alone writes
        return _train_share(cfg, run_dir, state, start)
    return _train(cfg, run_dir, resume_from=state, console=console, extra_callbacks=(), start=start)


@dataclass
class Start:
    """What a run starts from: the task with its data, the model, and where its weights came from."""

    task: Task
    model: nn.Module
    weights_from: str | None = None


def prepare_start(cfg: Config, fresh: bool = True) -> Start:
    """The task and model; with train.init_from, the task is sized as that run (a sequence run's vocabulary)
    and a `fresh` model takes its best weights (a resumed one takes its own checkpoint's next)."""
    check_sources(cfg)
    source = source_run(cfg)
    if source is not None:
        check_source_task(cfg, source)
    task = prepare_task(cfg, source if source is not None and loads_whole(cfg, source) else None)
    task.monitored(cfg.train.early_stop.metric)  # an unknown metric is refused before a run directory is made
    check_graphs(cfg, task.capturable, ddp=distributed.launched())
    model = task.build_model()
    weights_from = None
    if fresh:
        weights_from = init_weights(model, source, cfg) if source is not None else pretrained(model, cfg)
    frozen = apply_strategy(model, cfg.transfer)
    if weights_from and cfg.transfer.strategy:
        weights_from += f"; transfer.strategy={cfg.transfer.strategy} ({frozen:,} parameters frozen)"
    return Start(task, model, weights_from)


def check_sources(cfg: Config) -> None:
    """A transfer strategy needs weights to start from, and takes them from one place."""
    given = [k for k, v in (("train.init_from", cfg.train.init_from), ("transfer.weights", cfg.transfer.weights))
             if v is not None]
    if len(given) > 1:
        raise ConfigError("train.init_from and transfer.weights both name weights to start from", "keep one")
    if cfg.transfer.strategy is not None and not given:
        raise ConfigError(f"transfer.strategy={cfg.transfer.strategy} has no weights to start from",
                          "set train.init_from=RUN_DIR or transfer.weights=FILE")


def check_source_task(cfg: Config, run: RunDir) -> None:
    """A run of another task starts this one only when both tasks are of one transfer group."""
    theirs, ours = run_task(run), cfg.task.name
    group = TASKS.get(ours).transfer_group
    if theirs != ours and (group is None or theirs not in TASKS or TASKS.get(theirs).transfer_group != group):
        raise ConfigError(f"train.init_from run {run.path.name} is a {theirs} run, this one is {ours}",
                          "start from a run of the same task" + (f" or of another {group} task" if group else ""))


def pretrained(model: nn.Module, cfg: Config) -> str | None:
    """transfer.weights (torchvision's ResNet layout) into `model`'s backbone; the log line (None: not set)."""
    path = cfg.transfer.weights
    if path is None:
        return None
    if not isinstance(model, ResNet):
        raise ConfigError(f"transfer.weights holds ResNet weights, this model is {cfg.model.name}",
                          "use model.name=resnet model.stem=imagenet and the file's depth (18, 34 or 50)")
    return take_backbone(model, torchvision_resnet(model, path), f"transfer.weights {path}", "")


def _train(cfg: Config, run_dir: RunDir, resume_from: dict[str, Any] | None, console: Console | None,
           extra_callbacks: tuple[Callback, ...], start: Start) -> RunResult:
    console = console or Console()
    with (RunLock(run_dir.path), log_to(log, run_dir.log, _console_handler(console)),
          distributed.failure_stops_all()):
        trainer, diagnosis = build_trainer(cfg, run_dir, console, extra_callbacks, start)
        model, device = trainer.module, trainer.device
        if resume_from is not None:
            trainer.restore(resume_from)
            log.info("resuming %s from epoch %d", run_dir.path, trainer.state.epoch)
        else:
            log.info("run %s: %s on %s, %d parameters, %s", run_dir.path.name, cfg.model.name, cfg.data.name,
                     count_params(model), describe_device(device))
            if start.weights_from:
                log.info(start.weights_from)
        summary = {
            "name": run_dir.path.name, "status": "running", "task": cfg.task.name, "dataset": cfg.data.name,
            "model": cfg.model.name, "num_params": count_params(model), "seed": cfg.train.seed,
            "device": describe_device(device), "versions": versions(),
        }
        write_json(run_dir.summary, summary)
        startup = process_age()
        status = trainer.fit()
        distributed.finish(status)  # ── DDP: the last collective (the test pass is rank 0's alone)
        summary |= _finish(trainer, run_dir, status)
        if diagnosis is not None:
            summary |= diagnosis.report(trainer)
        summary["timing"] = _timing(summary.pop("timing"), startup, trainer)
        log.info(timing_line(summary["timing"]))
        write_json(run_dir.summary, summary)
    return RunResult(run_dir.path, status, summary)


def _train_share(cfg: Config, run_dir: RunDir, resume_from: dict[str, Any] | None, start: Start) -> RunResult:
    """A DDP rank other than 0: trains its share of every batch in step with the others and writes nothing (no
    callbacks: they write files); its warnings and errors go to stderr, marked with its rank."""
    rank = distributed.rank()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"[rank {rank}] %(levelname)s %(message)s"))
    with warnings_to(log, handler), distributed.failure_stops_all():
        trainer = Trainer(cfg, start.task, start.model, run_dir, start.task.device)
        if resume_from is not None:
            trainer.restore(resume_from)
        status = trainer.fit()
    distributed.finish(status)
    return RunResult(run_dir.path, status, {"status": status}, rank)


def prepare_task(cfg: Config, source: RunDir | None = None) -> Task:
    """Threads, seeds, device (under torchrun: this rank's, in the process group), then the task with its data
    loaded (the model comes next), sized as the finished run `source` when given."""
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    seed_everything(cfg.train.seed, cfg.train.deterministic)
    task_cls, device = TASKS.get(cfg.task.name), distributed.setup(cfg.train, resolve_device(cfg.train.device))
    return task_cls(cfg, device) if source is None else task_cls.for_run(source, cfg, device)


def build_trainer(cfg: Config, run_dir: RunDir, console: Console, extra_callbacks: tuple[Callback, ...] = (),
                  start: Start | None = None) -> tuple[Trainer, Diagnosis | None]:
    """The trainer `run` uses: task and model (from `prepare_start(cfg)` unless given) and the standard callbacks."""
    start = start or prepare_start(cfg)
    task, model, device = start.task, start.model, start.task.device
    tensorboard = TensorBoard(run_dir.tb)
    diagnosis = Diagnosis(cfg.diagnose, run_dir, tensorboard) if cfg.diagnose.enabled else None
    callbacks: list[Callback] = [MetricsFile(run_dir.metrics), tensorboard, *([diagnosis] if diagnosis else []),
                                 *extra_callbacks]
    if not cfg.train.quiet and console.is_terminal:
        callbacks.append(ProgressBar(console))
    return Trainer(cfg, task, model, run_dir, device, callbacks), diagnosis


def _finish(trainer: Trainer, run_dir: RunDir, status: str) -> dict[str, Any]:
    """Summary fields after training: best epoch, test metrics of the best weights, plots."""
    rows = MetricsCSV(run_dir.metrics).read()
    out: dict[str, Any] = {
        "status": status, "epochs_completed": trainer.saved_epoch, "wall_time_s": round(trainer.state.wall_time_s, 3),
        "monitor": trainer.monitor, "best_epoch": trainer.state.best_epoch,
    }
    out |= {k: v for k, v in best_row(rows, trainer.state.best_epoch).items() if k.startswith("val_")}
    out = {("best_" + k if k.startswith("val_") else k): v for k, v in out.items()}
    if trainer.failure:
        out["failure"] = trainer.failure
    final_eval = 0.0
    if rows:
        plot_curves(rows, run_dir.plots / "curves.png", title=run_dir.path.name)
    best = run_dir.checkpoint("best")
    if status in ("completed", "early_stopped") and best.is_file() and trainer.task.has_split("test"):
        trainer.load_best(best)
        start = time.perf_counter()
        # the one test pass (rank 0 alone under DDP: the others have finished): metrics and report share its sums
        test = trainer.eval_sums("test", alone=True)
        out |= {f"test_{k}": v for k, v in trainer.task.summarize(test).items()}
        final_eval = time.perf_counter() - start
        out |= trainer.task.final_report(trainer.module, run_dir, test)
        log.info("test: %s", "  ".join(f"{k} {v:.4f}" for k, v in out.items() if k.startswith("test_")))
    out["timing"] = {"final_eval_s": final_eval}
    return out


def _timing(finish: dict[str, float], startup: float, trainer: Trainer) -> dict[str, Any]:
    """summary.json's `timing`: this command's start-up (process start to the first epoch: imports, data load,
    model), its epochs (training and validation), the final test evaluation, the rest (checkpoints, figures,
    diagnosis) and the whole command so far."""
    t = {"startup_s": startup, "train_s": sum(trainer.epoch_times), "epochs_s": trainer.epoch_times,
         "final_eval_s": finish["final_eval_s"], "other_s": 0.0, "total_s": process_age()}
    t["other_s"] = t["total_s"] - startup - t["train_s"] - t["final_eval_s"]
    return {k: [round(e, 3) for e in v] if isinstance(v, list) else round(v, 3) for k, v in t.items()}


def _console_handler(console: Console) -> RichHandler:
    return RichHandler(console=console, show_path=False, show_level=False, markup=False, log_time_format="[%X]")


__all__ = ["RunResult", "evaluate", "resume", "run"]
