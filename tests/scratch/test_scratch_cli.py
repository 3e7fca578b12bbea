"""End to end: `python -m trainlab.scratch.cli run` writes a complete run directory; the
engine never imports torch."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from trainlab.scratch.cli import app
from trainlab.scratch.config import load_config
from trainlab.scratch.runner import run_experiment

COLUMNS = ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_time_s"]


def scratch_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainlab.scratch.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_scratch_never_imports_torch() -> None:
    code = (
        "import pkgutil, sys, trainlab.scratch as s\n"
        "for m in pkgutil.walk_packages(s.__path__, 'trainlab.scratch.'): __import__(m.name)\n"
        "import trainlab.scratch.cli\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_run_writes_a_complete_run_directory(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text("model: {name: two_layer, hidden_dim: 64}\noptim: {rule: adam, lr: 0.01}\n")
    result = scratch_cli("run", "tiny.yaml", "train.epochs=4", "train.batch_size=64", "--name", "t", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "runs" / "t"
    for rel in (
        "config.yaml",
        "metrics.csv",
        "summary.json",
        "train.log",
        "checkpoints/best.npz",
        "checkpoints/last.npz",
        "plots/curves.png",
        "plots/filters.png",
    ):
        assert (run / rel).is_file(), rel
    with (run / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS and [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["engine"] == "scratch"
    assert summary["device"] == "cpu (numpy)" and set(summary["versions"]) == {"python", "numpy"}
    assert summary["test_acc"] > 0.8 and summary["num_params"] == 64 * 64 + 64 + 64 * 10 + 10
    for key in ("best_epoch", "best_val_acc", "test_loss", "wall_time_s", "seed"):
        assert key in summary
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["engine"] == "scratch" and config["model"]["hidden_dim"] == 64 and config["train"]["epochs"] == 4
    assert (
        load_config(run / "config.yaml").model_dump()
        == load_config(tmp_path / "tiny.yaml", ["train.epochs=4", "train.batch_size=64"]).model_dump()
    )  # the resolved config re-runs as is
    with np.load(run / "checkpoints" / "best.npz", allow_pickle=False) as best:
        assert best["param/W1"].shape == (64, 64)
    assert "test loss" in (run / "train.log").read_text()


def test_bad_input_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["model.hiden_dim=3"], ["missing.yaml"], ["optim.rule=adma"]):
        result = CliRunner().invoke(app, ["run", *args])
        assert result.exit_code == 2, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "runs").exists()


def test_existing_run_directory_needs_overwrite(tmp_path: Path) -> None:
    cfg = load_config(None, ["train.epochs=1", "data.subset=200", "model.name=convnet", "model.filters=[4]"])
    run_dir, summary = run_experiment(cfg, name="r", out=tmp_path)
    assert summary["status"] == "completed" and (run_dir / "plots" / "filters.png").is_file()
    args = ["run", "train.epochs=1", "data.subset=100", "--name", "r", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = CliRunner().invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "summary.json").read_text())["model"] == "two_layer"


def test_ctrl_c_right_after_a_checkpoint_keeps_summary_metrics_and_checkpoint_in_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    import trainlab.scratch.solver as solver_module

    real_save = solver_module.save_npz

    def save_then_ctrl_c(path: Path, arrays: dict) -> None:  # the interrupt lands once last.npz is in place
        real_save(path, arrays)
        if path.name == "last.npz" and int(arrays["meta/epoch"]) == 2:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(solver_module, "save_npz", save_then_ctrl_c)
    cfg = load_config(None, ["train.epochs=5", "data.subset=200", "model.hidden_dim=16"])
    run_dir, summary = run_experiment(cfg, name="int", out=tmp_path)
    assert summary["status"] == "interrupted" and summary["epochs_completed"] == 2
    with (run_dir / "metrics.csv").open() as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["1", "2"]
    with np.load(run_dir / "checkpoints" / "last.npz", allow_pickle=False) as last:
        assert int(last["meta/epoch"]) == 2
