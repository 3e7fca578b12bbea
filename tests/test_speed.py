"""The fast paths: hooks skipped in the hot loop, the timing summary, one test pass, pool-first conv nets,
test-time flips, fixed batch shapes, fused optimizers (no timings: speed lives in benchmarks/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from torch import nn

from trainlab import api
from trainlab.config import load_config
from trainlab.data import tensors
from trainlab.data.tensors import TensorSplit
from trainlab.engine import Callback
from trainlab.engine.optim import build_optimizer, fused
from trainlab.models import build_model
from trainlab.runs import RunDir
from trainlab.tasks.classification import ClassificationTask

TINY = ["model.name=mlp", "model.hidden=[16]", "train.epochs=2", "data.subset=400", "diagnose.enabled=false"]


class Counts(Callback):
    """Counts the hooks it overrides (on_step_end and on_epoch_end only)."""

    def __init__(self) -> None:
        self.steps = self.epochs = 0

    def on_step_end(self, trainer, step, loss):  # type: ignore[no-untyped-def]
        self.steps += 1

    def on_epoch_end(self, trainer, row):  # type: ignore[no-untyped-def]
        self.epochs += 1


def test_the_hot_loop_calls_only_overridden_hooks_and_sees_callbacks_added_late(tmp_path: Path) -> None:
    cfg = load_config(None, TINY)
    start = api.prepare_start(cfg)
    run = RunDir.create(tmp_path / "r")
    trainer, _ = api.build_trainer(cfg, run, Console(quiet=True), start=start)
    late = Counts()
    trainer.callbacks.append(late)  # after construction: bound when fit starts
    assert trainer.fit() == "completed"
    assert late.epochs == 2 and late.steps == 2 * start.task.num_train_batches()
    assert late in trainer._hooks["on_step_end"] and late not in trainer._hooks["on_after_backward"]
    assert all(cb not in trainer._hooks["on_step_end"] for cb in trainer.callbacks if cb is not late)
    assert trainer._plain  # fp32, no clipping, no after-backward hook: the bare sequence of calls


def test_a_run_times_its_stages_and_scores_the_test_split_once(tmp_path: Path, monkeypatch) -> None:
    passes: list[str] = []
    real = ClassificationTask.eval_batches

    def counted(self, split):  # type: ignore[no-untyped-def]
        passes.append(split)
        return real(self, split)

    monkeypatch.setattr(ClassificationTask, "eval_batches", counted)
    result = api.run(load_config(None, TINY), name="t", out=tmp_path)
    assert passes.count("test") == 1 and passes.count("val") == 2  # metrics and confusion matrix share a pass
    assert (result.run_dir / "plots" / "confusion.png").is_file()
    t = result.summary["timing"]
    assert len(t["epochs_s"]) == 2 and t["train_s"] == pytest.approx(sum(t["epochs_s"]), abs=1e-2)
    assert min(t["startup_s"], t["final_eval_s"], t["other_s"]) >= 0
    assert t["total_s"] == pytest.approx(t["startup_s"] + t["train_s"] + t["final_eval_s"] + t["other_s"], abs=1e-2)
    assert "time: start-up" in (result.run_dir / "train.log").read_text()


def test_pool_first_puts_the_pool_between_conv_and_norm_and_keeps_the_shapes() -> None:
    opts = load_config(None, ["model.name=convnet", "model.filters=[4,8]", "model.batch_norm=true",
                              "model.pool_first=true"]).model
    model = build_model(opts, (1, 28, 28), 10)
    kinds = [type(m) for m in model.modules() if not list(m.children())]  # the layers, in order
    assert kinds[:4] == [nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU]
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_test_time_flips_average_the_probabilities_of_both_mirror_images() -> None:
    cfg = load_config(None, ["data.subset=200", "model.name=convnet", "model.filters=[4]", "task.tta_flip=true"])
    task = ClassificationTask(cfg, torch.device("cpu"))
    torch.manual_seed(0)
    model = task.build_model().eval()
    x, y = next(iter(task.eval_batches("test")))
    with torch.no_grad():
        _, stats = task.step(model, (x, y))
        logits = torch.log((model(x).softmax(1) + model(x.flip(3)).softmax(1)) / 2)  # log of the mean probability
    assert int(stats["correct"]) == int((logits.argmax(1) == y).sum())
    expected = torch.zeros(10, 10, dtype=torch.long).index_put_((y, logits.argmax(1)), torch.tensor(1), accumulate=True)
    assert torch.equal(stats["confusion"].view(10, 10).cpu(), expected)  # the confusion of the averaged predictions
    assert float(stats["loss"]) == pytest.approx(float(task.loss_fn(logits, y)) * len(y), rel=1e-5)
    model.train()
    with torch.no_grad():  # training steps score the images as they are
        _, train_stats = task.step(model, (x, y))
        assert float(train_stats["loss"]) == pytest.approx(float(task.loss_fn(model(x), y)) * len(y), rel=1e-4)


def test_drop_last_gives_every_training_batch_the_same_shape() -> None:
    split = TensorSplit(torch.arange(10.0).view(10, 1), torch.arange(10))
    gen = torch.Generator().manual_seed(0)
    sizes = [len(y) for _, y in split.batches(4, gen, drop_last=True)]
    assert sizes == [4, 4] == [4] * split.num_batches(4, shuffle=True, drop_last=True)
    assert [len(y) for _, y in split.batches(4, gen)] == [4, 4, 2] and split.num_batches(4, shuffle=True) == 3
    assert [len(y) for _, y in split.batches(16, gen, drop_last=True)] == [10]  # a split smaller than a batch


@pytest.mark.parametrize(("batch", "world", "drop_last"), [(128, 1, False), (7, 1, True), (33, 2, False),
                                                       (1000, 1, False)])
def test_batches_gathered_in_groups_are_the_batches_gathered_one_by_one(
        monkeypatch: pytest.MonkeyPatch, batch: int, world: int, drop_last: bool) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (1000, 1, 8, 8), dtype=np.uint8), rng.integers(0, 10, 1000)
    split = TensorSplit.from_arrays(x, y, torch.device("cpu"), mean=np.array([0.3]), std=np.array([0.35]))
    runs = []
    for group_bytes in (1 << 20, 0):  # 0: a group of one batch
        monkeypatch.setattr(tensors, "GROUP_BYTES", group_bytes)
        runs.append(list(split.batches(batch, torch.Generator().manual_seed(1), world, drop_last)))
    grouped, single = runs
    assert [len(b) for _, b in grouped] == [len(b) for _, b in single] and len(grouped) > 0
    assert len(grouped) == split.num_batches(batch, shuffle=True, world=world, drop_last=drop_last)
    for (gx, gy), (sx, sy) in zip(grouped, single, strict=True):
        assert torch.equal(gx, sx) and torch.equal(gy, sy) and gx.dtype == torch.float32
    # a transform (the task's augmentation) sees each group once (here the whole split: 256 KB), every batch from it
    monkeypatch.setattr(tensors, "GROUP_BYTES", 1 << 20)
    seen: list[int] = []
    doubled = list(split.batches(batch, torch.Generator().manual_seed(1), world, drop_last,
                                 transform=lambda t: seen.append(len(t)) or t * 2))
    assert seen == [1000]
    for (dx, _), (sx, _) in zip(doubled, single, strict=True):
        assert torch.equal(dx, sx * 2)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_the_fused_optimizer_keeps_the_settings_and_the_update(name: str) -> None:
    cfg = load_config(None, [f"optim.name={name}", "optim.weight_decay=0.01", "optim.lr=0.1"]).optim
    torch.manual_seed(0)
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    plain, fast = build_optimizer(a, cfg), fused(build_optimizer(b, cfg), list(b.parameters()))
    assert fast.defaults["fused"] and not plain.defaults.get("fused")
    assert {k: v for k, v in fast.defaults.items() if k not in ("fused", "foreach")} == \
        {k: v for k, v in plain.defaults.items() if k not in ("fused", "foreach")}
    x = torch.randn(8, 4)
    for model, opt in ((a, plain), (b, fast)):
        for _ in range(3):
            opt.zero_grad()
            model(x).pow(2).sum().backward()
            opt.step()
    assert torch.allclose(a.weight, b.weight, atol=1e-6)
