"""train.ema_decay: an average of the weights is what validation, checkpoints, the test and `trainlab eval` see;
the trained weights go on training and a resume continues both exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from clitools import run_cli
from test_tasks import StopAfter
from torch import nn

from trainlab import api
from trainlab.config import load_config
from trainlab.engine.checkpoint import load_checkpoint, save_checkpoint
from trainlab.engine.ema import WeightEMA
from trainlab.errors import CheckpointError
from trainlab.evaluation import evaluate

CONV = ["model.name=convnet", "model.filters=[4,8]", "model.hidden=[16]", "model.batch_norm=true",
        "data.subset=400", "train.batch_size=32", "train.epochs=3", "diagnose.enabled=false", "train.quiet=true",
        "optim.lr=0.01", "train.ema_decay=0.9"]


def test_the_average_follows_the_recurrence_with_its_warm_up() -> None:
    torch.manual_seed(0)
    live = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = WeightEMA(live, decay=0.9)
    expected = {k: v.clone() for k, v in live.state_dict().items()}
    for step in range(1, 30):
        with torch.no_grad():
            for p in live.parameters():
                p.add_(torch.randn_like(p))
            live[1].running_mean.add_(1.0)
            live[1].num_batches_tracked.add_(1)
        ema.update(step)
        rate = 1 - min(0.9, (1 + step) / (10 + step))
        for k, v in live.state_dict().items():
            expected[k] = expected[k] + rate * (v - expected[k]) if v.is_floating_point() else v.clone()
    avg = ema.module.state_dict()
    assert all(torch.allclose(avg[k], expected[k], atol=1e-5) for k in avg)
    assert avg["1.num_batches_tracked"] == 29 and not ema.module.training
    assert not torch.allclose(avg["0.weight"], live[0].weight)  # an average, not a copy


def test_validation_checkpoints_and_the_test_see_the_average(tmp_path: Path) -> None:
    result = api.run(load_config(None, CONV), name="ema", out=tmp_path)
    last = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert any(not torch.equal(last["model"][k], last["train_model"][k]) for k in last["model"])
    # `trainlab eval` reads `model`: it reproduces the summary's test figures and the last epoch's validation row
    test = evaluate([result.run_dir]).metrics
    assert test["acc"] == result.summary["test_acc"] and test["loss"] == pytest.approx(result.summary["test_loss"])
    row = list(csv.DictReader((result.run_dir / "metrics.csv").open()))[-1]
    val = evaluate([result.run_dir], split="val", checkpoint="last").metrics
    assert val["acc"] == pytest.approx(float(row["val_acc"]))
    assert val["loss"] == pytest.approx(float(row["val_loss"]), rel=1e-5)  # (the CSV's 6 significant digits)
    plain = api.run(load_config(None, [*CONV, "train.ema_decay=null"]), name="plain", out=tmp_path)
    assert "train_model" not in load_checkpoint(plain.run_dir / "checkpoints" / "last.pt")
    assert plain.summary["test_loss"] != result.summary["test_loss"]


def test_a_resumed_run_continues_the_average_exactly(tmp_path: Path) -> None:
    cfg = load_config(None, CONV)
    whole = api.run(cfg, name="whole", out=tmp_path)
    cut = api.run(cfg, name="cut", out=tmp_path, callbacks=(StopAfter(1),))
    resumed = api.resume(cut.run_dir)
    a, b = (load_checkpoint(r.run_dir / "checkpoints" / "last.pt") for r in (whole, resumed))
    for key in ("model", "train_model"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key
    assert resumed.summary["test_loss"] == whole.summary["test_loss"]


def test_a_checkpoint_without_the_trained_weights_is_refused_before_anything_changes(tmp_path: Path) -> None:
    cut = api.run(load_config(None, CONV), name="cut", out=tmp_path, callbacks=(StopAfter(1),))
    path = cut.run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    del state["train_model"]
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match="holds no trained weights beside the average"):
        api.resume(cut.run_dir)
    r = run_cli("resume", str(cut.run_dir), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "train_model" in r.stderr
