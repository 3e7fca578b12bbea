"""End-to-end: the real `trainlab` CLI in a subprocess on the bundled digits data."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from clitools import run_cli

FAST = ["model.name=mlp", "model.hidden=[64]", "train.epochs=4", "train.batch_size=64", "optim.lr=0.003"]


def read_rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def assert_one_line_error(r, needle):
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_run_writes_a_complete_run_directory(cli, tmp_path):
    r = cli("run", *FAST, "--name", "r1")
    assert r.returncode == 0, r.stderr
    run = tmp_path / "runs" / "r1"
    assert f"run directory: {run}" in r.stdout
    for f in ("config.yaml", "metrics.csv", "summary.json", "train.log", "checkpoints/last.pt",
              "checkpoints/best.pt", "plots/curves.png", "plots/confusion.png"):
        assert (run / f).is_file(), f
    assert list((run / "tb").glob("events.out.tfevents.*"))
    rows = read_rows(run / "metrics.csv")
    assert list(rows[0])[:7] == ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_time_s"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    s = json.loads((run / "summary.json").read_text())
    assert s["status"] == "completed" and s["test_acc"] > 0.85 and s["num_params"] == 64 * 64 + 64 + 650
    for key in ("best_epoch", "best_val_acc", "test_loss", "wall_time_s", "versions", "seed", "device"):
        assert key in s
    assert "optim:\n  name: adam\n  lr: 0.003" in (run / "config.yaml").read_text()
    assert "test: test_loss" in (run / "train.log").read_text()


def test_existing_run_dir_is_refused_and_left_intact(cli, tmp_path):
    assert cli("run", *FAST, "train.epochs=1", "--name", "r").returncode == 0
    summary = (tmp_path / "runs/r/summary.json").read_text()
    r = cli("run", *FAST, "train.epochs=1", "--name", "r")
    assert_one_line_error(r, "already exists")
    assert (tmp_path / "runs/r/summary.json").read_text() == summary
    missing = ["data.name=cifar10", "data.download=false", "data.root=/nonexistent"]
    r = cli("run", *FAST, *missing, "--name", "r", "--overwrite", env={"TRAINLAB_DATA": "/nonexistent"})
    assert_one_line_error(r, "cifar10 files not found")  # refused before the old run is replaced
    assert (tmp_path / "runs/r/summary.json").read_text() == summary
    assert_one_line_error(cli("run", *missing, "--name", "fresh", env={"TRAINLAB_DATA": "/nonexistent"}), "not found")
    assert not (tmp_path / "runs/fresh").exists()  # no half-made run directory blocks the next attempt
    assert cli("run", *FAST, "train.epochs=1", "--name", "r", "--overwrite").returncode == 0


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "train.epoch=3"], "did you mean 'train.epochs'"),
    (["run", "missing.yaml"], "not found"),
    (["run", "data.name=cifar10", "data.download=false", "data.root=/nonexistent"], "cifar10 files not found"),
    (["eval", "nowhere"], "not a run directory"),
    (["resume", "nowhere"], "not a run directory"),
    (["config", "optim.lr=fast"], "optim.lr"),
    (["run", "train.cuda_graphs=true"], "cannot replay this step: diagnose's gradient statistics"),
])
def test_bad_input_exits_2_with_one_line(cli, args, needle, monkeypatch):
    assert_one_line_error(cli(*args, env={"TRAINLAB_DATA": "/nonexistent"}), needle)


def test_config_prints_the_resolved_config(cli):
    r = cli("config", "optim.lr=0.02")
    assert r.returncode == 0 and "lr: 0.02" in r.stdout and "epochs: 10" in r.stdout
    r = cli("config", "--options")
    assert r.returncode == 0 and "label smoothing" in r.stdout


def test_eval_ensemble_predictions_and_compare(cli, tmp_path):
    for seed in (0, 1):
        assert cli("run", *FAST, f"train.seed={seed}", "--name", f"s{seed}").returncode == 0
    s0 = json.loads((tmp_path / "runs/s0/summary.json").read_text())
    r = cli("eval", "runs/s0", "--predictions", "pred.csv")
    assert r.returncode == 0, r.stderr
    assert f"acc {s0['test_acc']:.4f}" in r.stdout and "precision" in r.stdout and "confusion" in r.stdout
    rows = read_rows(tmp_path / "pred.csv")
    assert len(rows) == 360 and set(rows[0]) == {"id", "label"} and 0 <= int(rows[5]["label"]) <= 9

    r = cli("eval", "runs/s0", "runs/s1", "--split", "val", "--checkpoint", "last")
    assert r.returncode == 0, r.stderr
    assert "member s0" in r.stdout and "member s1" in r.stdout and "ensemble gain" in r.stdout

    r = cli("compare", "runs/s0", "runs/s1")
    assert r.returncode == 0 and "s0" in r.stdout and "s1" in r.stdout and "train.seed" in r.stdout

    (tmp_path / "runs/s1/checkpoints/best.pt").write_bytes(b"garbage")
    assert_one_line_error(cli("eval", "runs/s1"), "truncated or not a checkpoint")


RESUME = ["model.name=mlp", "model.hidden=[256,256]", "model.dropout=0.3", "data.name=digits", "train.epochs=10",
          "train.batch_size=32", "sched.name=cosine", "data.augment.crop_padding=1", "train.seed=3"]


def weights(path):
    return torch.load(path, weights_only=True)["model"]


def test_killed_run_resumes_bit_for_bit(cli, tmp_path):
    assert cli("run", *RESUME, "--name", "ref").returncode == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "run", *RESUME, "--name", "killed"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path / "runs/killed/metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) >= 4):
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(read_rows(metrics)) < 10
    r = cli("resume", "runs/killed")
    assert r.returncode == 0, r.stderr
    drop = lambda rows: [{k: v for k, v in row.items() if k != "epoch_time_s"} for row in rows]  # noqa: E731
    assert drop(read_rows(metrics)) == drop(read_rows(tmp_path / "runs/ref/metrics.csv"))
    ref, got = weights(tmp_path / "runs/ref/checkpoints/last.pt"), weights(tmp_path / "runs/killed/checkpoints/last.pt")
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    s_ref = json.loads((tmp_path / "runs/ref/summary.json").read_text())
    s_got = json.loads((tmp_path / "runs/killed/summary.json").read_text())
    assert s_got["status"] == "completed" and s_got["test_acc"] == s_ref["test_acc"]


def test_ctrl_c_marks_interrupted_and_resume_finishes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [*RESUME, "train.epochs=200"]
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "run", *args, "--name", "int"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "runs/int/metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    s = json.loads((tmp_path / "runs/int/summary.json").read_text())
    assert s["status"] == "interrupted" and "Traceback" not in err
    done = s["epochs_completed"]
    assert torch.load(tmp_path / "runs/int/checkpoints/last.pt", weights_only=True)["epoch"] == done
    # Shorten the run so the resume is quick; config.yaml is the run's own record.
    cfg = tmp_path / "runs/int/config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 200", f"epochs: {done + 1}"))
    r = run_cli("resume", "runs/int", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "runs/int/summary.json").read_text())["status"] == "completed"
    assert len(read_rows(metrics)) == done + 1


def test_a_locked_run_dir_is_refused(cli, tmp_path):
    assert cli("run", *FAST, "train.epochs=1", "--name", "l").returncode == 0
    from trainlab.runs import RunLock

    with RunLock(tmp_path / "runs/l"):
        assert_one_line_error(cli("resume", "runs/l"), "locked by another process")


def test_compare_shows_numpy_and_torch_runs_side_by_side(cli, tmp_path):
    assert cli("run", *FAST, "train.epochs=2", "--name", "torch").returncode == 0
    r = cli("scratch", "run", "model.name=two_layer", "train.epochs=2", "--name", "numpy")
    assert r.returncode == 0, r.stderr
    r = cli("compare", "runs/torch", "runs/numpy")
    assert r.returncode == 0, r.stderr
    table = r.stdout
    assert "torch" in table and "numpy" in table and "test_acc" in table
    accs = [json.loads((tmp_path / f"runs/{n}/summary.json").read_text())["test_acc"] for n in ("torch", "numpy")]
    assert all(f"{a:.4g}" in table for a in accs)
