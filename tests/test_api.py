"""The Python API, and failure handling that needs a hook into the loop."""

import json
import math

import torch
from pytest import approx, raises

import trainlab
from trainlab.config import load_config
from trainlab.engine import Callback
from trainlab.errors import CheckpointError, ConfigError

FAST = ["model.name=mlp", "model.hidden=[32]", "train.epochs=3", "train.quiet=true", "optim.lr=0.01"]


class PoisonAt(Callback):
    """Puts NaN into the weights at the start of an epoch (a diverging run)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_start(self, trainer, epoch):
        if epoch == self.epoch:
            with torch.no_grad():
                next(trainer.module.parameters()).fill_(math.nan)


def test_api_run_returns_a_result(tmp_path):
    result = trainlab.run(load_config(None, FAST), name="a", out=tmp_path)
    assert result.status == "completed" and result.test_acc > 0.8 and result.run_dir == tmp_path / "a"


def test_nan_loss_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    result = trainlab.run(load_config(None, FAST), name="nan", out=tmp_path, callbacks=(PoisonAt(2),))
    assert result.status == "failed"
    s = json.loads((tmp_path / "nan/summary.json").read_text())
    assert "epoch 2" in s["failure"] and "learning rate" in s["failure"]
    last = torch.load(tmp_path / "nan/checkpoints/last.pt", weights_only=True)
    assert last["epoch"] == 1 and all(torch.isfinite(t).all() for t in last["model"].values())


def test_early_stopping(tmp_path):
    stop = ["train.epochs=30", "train.early_stop.patience=2", "train.early_stop.metric=val_loss", "optim.lr=0.05"]
    cfg = load_config(None, [*FAST, *stop])
    result = trainlab.run(cfg, name="es", out=tmp_path)
    s = result.summary
    assert result.status == "early_stopped" and s["epochs_completed"] == s["best_epoch"] + 2 < 30


def test_grad_clip_and_bf16_and_channels_last_train(tmp_path):
    cfg = load_config(None, [*FAST, "model.name=convnet", "model.filters=[8]", "train.grad_clip=0.5",
                             "train.precision=bf16", "train.channels_last=true", "sched.name=onecycle"])
    assert trainlab.run(cfg, name="x", out=tmp_path).test_acc > 0.5


def test_evaluate_matches_the_summary(tmp_path):
    result = trainlab.run(load_config(None, FAST), name="e", out=tmp_path)
    ev = trainlab.evaluate([result.run_dir])
    assert abs(ev.acc - result.test_acc) < 1e-9 and ev.confusion.sum() == 360


def test_init_from_starts_where_the_source_run_ended(tmp_path):
    source = trainlab.run(load_config(None, [*FAST, "train.epochs=1"]), name="src", out=tmp_path)
    frozen = trainlab.run(load_config(None, [*FAST, "train.epochs=1", "optim.lr=1e-12",
                                             f"train.init_from={source.run_dir}"]), name="frozen", out=tmp_path)
    assert frozen.summary["test_loss"] == approx(source.summary["test_loss"], rel=1e-6)
    tuned = trainlab.run(load_config(None, [*FAST, "train.epochs=2", f"train.init_from={source.run_dir}"]),
                         name="tuned", out=tmp_path)
    assert tuned.summary["test_loss"] < source.summary["test_loss"]
    with raises(CheckpointError, match=r"train.init_from: .*src.checkpoints.best.pt was saved from another arch"):
        trainlab.run(load_config(None, [*FAST, "model.hidden=[16]", f"train.init_from={source.run_dir}"]),
                     name="other", out=tmp_path)
    with raises(ConfigError, match="src is a classification run, this one is seq2seq"):
        trainlab.run(load_config(None, ["model.name=seq2seq", "data.name=math", f"train.init_from={source.run_dir}"]),
                     name="seq", out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frozen", "src", "tuned"]
