"""One scratch experiment into a standard run directory:
config -> data -> model -> Solver -> metrics, checkpoints, summary, plots."""

from __future__ import annotations

import dataclasses
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from trainlab.runs import MetricsCSV, RunDir, RunLock, write_json, write_yaml
from trainlab.runs.log import log_to
from trainlab.scratch.config import ScratchConfig
from trainlab.scratch.data import load_arrays
from trainlab.scratch.plots import plot_curves, plot_filters
from trainlab.scratch.solver import EpochStats, Solver, format_stats

log = logging.getLogger("trainlab.scratch")


def default_name(cfg: ScratchConfig) -> str:
    return f"{cfg.data.name}-{cfg.model.name}-scratch-{time.strftime('%Y%m%d-%H%M%S')}"


def run_experiment(
    cfg: ScratchConfig, name: str | None = None, out: Path | str = "runs", overwrite: bool = False
) -> tuple[Path, dict[str, Any]]:
    """Train ``cfg`` into the fresh run directory ``out/name``; returns it and the summary.

    Bad input (config, data, an existing directory) raises a ``UserError`` before the
    directory is touched. Once training starts, summary.json is always written: status
    ``completed``, ``interrupted`` (Ctrl-C) or ``failed`` (the error is re-raised).
    """
    x_train, y_train, x_val, y_val, x_test, y_test, classes = load_arrays(cfg.data)
    input_shape = tuple(x_train.shape[1:])
    model = cfg.model.build(input_shape, len(classes), cfg.train.reg, cfg.train.seed)
    rd = RunDir.create(Path(out) / (name or default_name(cfg)), overwrite=overwrite)
    write_yaml(rd.config, cfg.model_dump(mode="json"))
    summary: dict[str, Any] = {
        "name": rd.path.name,
        "engine": "scratch",
        "status": "running",
        "dataset": cfg.data.name,
        "model": cfg.model.name,
        "num_params": model.num_params(),
        "seed": cfg.train.seed,
        "device": "cpu (numpy)",
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
    }
    metrics = MetricsCSV(rd.metrics)

    def on_epoch(stats: EpochStats) -> None:
        metrics.append(dataclasses.asdict(stats))
        log.info(format_stats(stats))

    solver = Solver(
        model,
        x_train,
        y_train,
        x_val,
        y_val,
        update_rule=cfg.optim.rule,
        optim_config=cfg.optim.rule_config(),
        lr_decay=cfg.optim.lr_decay,
        batch_size=cfg.train.batch_size,
        num_epochs=cfg.train.epochs,
        train_acc_samples=cfg.train.train_acc_samples,
        seed=cfg.train.seed,
        checkpoint_dir=rd.checkpoints,
        callback=on_epoch,
    )
    start = time.perf_counter()
    with RunLock(rd.path), log_to(log, rd.log, logging.StreamHandler(sys.stdout)), threadpool_limits(cfg.train.threads):
        log.info(
            "run %s: %s on %s %s, %d parameters, numpy %s",
            rd.path.name,
            cfg.model.name,
            cfg.data.name,
            input_shape,
            model.num_params(),
            np.__version__,
        )
        write_json(rd.summary, summary)
        try:
            solver.train()
            test_loss, test_acc = solver.evaluate(x_test, y_test)
            log.info(
                "best epoch %d (val acc %.4f); test loss %.4f acc %.4f",
                solver.best_epoch,
                solver.best_val_acc,
                test_loss,
                test_acc,
            )
            summary |= {"status": "completed", "test_loss": test_loss, "test_acc": test_acc}
        except KeyboardInterrupt:
            summary["status"] = "interrupted"
            log.info("interrupted after epoch %d", solver.epoch)
        except Exception as e:
            summary |= {"status": "failed", "failure": f"{type(e).__name__}: {e}"}
            log.exception("failed")
            raise
        finally:
            summary |= {
                "epochs_completed": solver.epoch,
                "best_epoch": solver.best_epoch,
                "best_val_acc": solver.best_val_acc if solver.history else None,
                "wall_time_s": round(time.perf_counter() - start, 3),
            }
            write_json(rd.summary, summary)
        if solver.history:
            plot_curves(solver.history, rd.plots / "curves.png", title=rd.path.name)
        plot_filters(model.params["W1"], input_shape, rd.plots / "filters.png")
    return rd.path, summary
