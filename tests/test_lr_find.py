"""`trainlab lr-find`: the exponential ramp, the divergence stop, the suggestion, and that no run is touched."""

from __future__ import annotations

import csv
import hashlib
import math

import numpy as np
import pytest
from clitools import main_in_process
from PIL import Image
from tinyruns import TINY, train

from trainlab.config import load_config
from trainlab.errors import RunDirError
from trainlab.lr_find import MIN_OVER_10, STEEPEST, lr_find, suggest

QUICK = [o for o in TINY if not o.startswith("train.epochs")]


def test_ramp_on_digits_suggests_a_rate_inside_the_range_and_plots_it(tmp_path) -> None:
    r = lr_find(load_config(None, QUICK), start=1e-5, end=1.0, steps=40, out=tmp_path / "lf")
    assert 1e-5 < r.suggestion < 1.0 and r.method == STEEPEST
    assert np.allclose(np.diff(np.log(r.lrs)), math.log(1e5) / 39)  # exponential ramp from --start
    assert r.lrs[0] == pytest.approx(1e-5)
    assert min(r.smoothed) < 0.8 * r.smoothed[0]  # the loss fell on the way: training happened
    with Image.open(r.out / "lr_find.png") as im:
        assert im.size[0] > 300 and len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 50
    with (r.out / "lr_find.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(r.lrs) and float(rows[-1]["lr"]) == pytest.approx(r.lrs[-1])
    assert sorted(p.name for p in r.out.iterdir()) == ["lr_find.csv", "lr_find.json", "lr_find.png"]


def test_the_test_stops_once_the_smoothed_loss_diverges(tmp_path) -> None:
    r = lr_find(load_config(None, QUICK), start=1e-4, end=100.0, steps=60, out=tmp_path / "lf", diverge=1.5)
    assert r.diverged and len(r.lrs) < 60
    assert r.smoothed[-1] > 1.5 * min(r.smoothed[:-1])  # the stopping step
    assert all(s <= 1.5 * min(r.smoothed[:i]) for i, s in enumerate(r.smoothed[:-1]) if i)  # none before it
    assert r.lrs[0] <= r.suggestion < r.lrs[-1]


def test_suggestion_falls_back_to_the_minimum_over_ten() -> None:
    lrs = [1e-3, 1e-2, 1e-1, 1.0, 10.0]
    assert suggest(lrs, [1.0, 0.5, 2.0, 3.0, 9.0]) == (pytest.approx(1e-3), MIN_OVER_10, 1e-2)
    lrs = list(np.geomspace(1e-4, 1, 9))
    rate, how, at_min = suggest(lrs, [2.0, 2.0, 1.9, 1.7, 0.6, 0.3, 0.25, 0.9, 3.0])
    assert how == STEEPEST and rate == lrs[4] and at_min == lrs[6]


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_finished_run_is_read_never_written(tmp_path, monkeypatch) -> None:
    run = train(tmp_path, "done", "train.epochs=2")
    before = digest(run)
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, [*QUICK, f"train.init_from={run}"])  # starts from the run's best weights
    with pytest.raises(RunDirError, match="already exists"):
        lr_find(cfg, steps=20, out=run)
    r = lr_find(cfg, steps=12)
    assert r.out.resolve().parent == tmp_path / "runs" and r.out.name.startswith("lr-find-digits-mlp")
    assert r.smoothed[0] < 1.5  # the trained weights, not a fresh model (loss ≈ ln 10 = 2.3)
    assert digest(run) == before


def test_any_task_with_a_loss(tmp_path) -> None:
    cfg = load_config(None, [*QUICK, "task=regression", "data.name=diabetes"])
    r = lr_find(cfg, start=1e-5, end=10.0, steps=20, out=tmp_path / "lf")
    assert len(r.lrs) > 5 and 1e-5 < r.suggestion < 10.0


def test_lr_find_through_the_cli(cli, tmp_path, monkeypatch, capsys) -> None:
    r = cli("lr-find", "model.hidden=[16]", "--steps", "15", "--start", "1e-5", "--out", "lf")
    assert r.returncode == 0, r.stderr
    assert "suggested lr: " in r.stdout and "steepest descent of the smoothed loss" in r.stdout
    assert (tmp_path / "lf/lr_find.png").is_file()
    monkeypatch.chdir(tmp_path)
    code, _, err = main_in_process(monkeypatch, capsys, "lr-find", "--start", "1", "--end", "0.1", "--out", "lf2")
    assert code == 2 and "no rising range" in err and not (tmp_path / "lf2").exists()
