"""The GPU path on a CUDA device (skipped without one): data resident as uint8, fused optimizer, bf16 with
channels-last and torch.compile, no host sync inside the hot loop, exact resume with deterministic algorithms,
checkpoints that load on the CPU."""

from __future__ import annotations

import csv
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from test_data import write_idx
from test_tasks import StopAfter

from trainlab import api
from trainlab.config import load_config
from trainlab.data.idx import FILES
from trainlab.engine.checkpoint import load_checkpoint
from trainlab.runs import RunDir

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CONV = ["model.name=convnet", "model.filters=[8,16]", "model.hidden=[32]", "model.batch_norm=true",
        "train.device=cuda", "train.quiet=true", "diagnose.enabled=false", "train.batch_size=64", "optim.lr=0.003",
        "train.epochs=2"]


def uint8_mnist(root: Path, n_train: int = 1200, n_test: int = 300) -> list[str]:
    """Small MNIST-format files whose class is a bright band at rows 2·class to 2·class + 5 (learnable uint8
    data; left-right flips keep the class, vertical shifts do not)."""
    rng = np.random.default_rng(0)
    folder = root / "mnist"
    folder.mkdir(parents=True)
    arrays = []
    for n in (n_train, n_test):
        y = np.arange(n) % 10
        x = rng.integers(0, 60, (n, 28, 28))
        for i, label in enumerate(y):
            x[i, 2 * label:2 * label + 6, 4:24] += 190
        arrays += [x, y]
    for name, arr in zip(FILES, (arrays[0], arrays[1], arrays[2], arrays[3]), strict=True):
        write_idx(folder / name, arr, compress=True)
    return ["data.name=mnist", f"data.root={root}", "data.download=false", "data.val_fraction=0.1"]


@pytest.mark.parametrize("fast", [["train.precision=bf16"], ["train.compile=true"]], ids=["bf16", "compiled"])
def test_fast_path_trains_with_uint8_data_fused_adam_and_channels_last(tmp_path, fast):
    data = uint8_mnist(tmp_path)
    cfg = load_config(None, [*CONV, *data, *fast, "train.channels_last=true", "train.drop_last=true",
                             "data.augment.flip=true"])  # (shifts would move the class bands onto each other)
    trainer, _ = api.build_trainer(cfg, RunDir.create(tmp_path / "run"), Console(quiet=True))
    assert trainer.task.splits["train"].x.dtype == torch.uint8 and trainer.task.splits["train"].x.is_cuda
    assert trainer.optimizer.defaults.get("fused") is True
    assert trainer.fit() == "completed"
    assert trainer.evaluate("val")["acc"] > 0.9
    state = load_checkpoint(trainer.run.checkpoint("last"))  # weights_only, onto the CPU
    assert all(t.device.type == "cpu" for t in state["model"].values())


@pytest.mark.parametrize("graphs", [[], ["train.cuda_graphs=true"]], ids=["eager", "cuda-graphs"])
def test_the_hot_loop_syncs_host_and_device_only_where_it_means_to(tmp_path, graphs):
    """Inside `train_epoch` the host waits for the device only at the NaN check every `check_every` steps and once
    at the end; each sync is reported with where it happened."""
    cfg = load_config(None, [*CONV, *uint8_mnist(tmp_path), "train.drop_last=true", "train.precision=bf16",
                             "data.augment.flip=true", "data.augment.crop_padding=2", *graphs])
    trainer, _ = api.build_trainer(cfg, RunDir.create(tmp_path / "run"), Console(quiet=True))
    trainer.train_epoch(1)  # warm-up: allocator, cuDNN autotuning
    syncs: list[str] = []

    def record(message: Warning | str, *args: object, **kwargs: object) -> None:
        if "prototype feature" in str(message):  # torch's notice on turning the mode on
            return
        stack = traceback.extract_stack()[:-1]
        ours = [f for f in stack if "/trainlab/" in f.filename] or stack
        syncs.append(f"{ours[-1].filename.rsplit('/', 1)[-1]}:{ours[-1].lineno} {ours[-1].line}  ({message})")

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record
        torch.cuda.set_sync_debug_mode("warn")
        try:
            trainer.train_epoch(2)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    steps = trainer.task.num_train_batches()
    expected = steps // trainer.check_every + 1
    assert len(syncs) == expected, f"{len(syncs)} syncs in {steps} steps, expected {expected}:\n" + "\n".join(syncs)


def test_resume_on_the_gpu_is_exact_with_deterministic_algorithms(tmp_path):
    cfg = load_config(None, [*CONV, "data.subset=600", "train.deterministic=true", "train.epochs=3"])
    whole = api.run(cfg, name="whole", out=tmp_path)
    cut = api.run(cfg, name="cut", out=tmp_path, callbacks=(StopAfter(1),))
    assert cut.status == "interrupted" and whole.status == "completed"
    resumed = api.resume(cut.run_dir)
    a, b = (load_checkpoint(r / "checkpoints" / "last.pt")["model"] for r in (whole.run_dir, resumed.run_dir))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.summary["test_loss"] == whole.summary["test_loss"]


def test_cuda_graphs_train_as_eager_steps_do(tmp_path):
    """The captured step replayed (train.cuda_graphs) trains as eager steps do: the lr the schedule sets each step
    reaches the captured update (a stale one would leave other weights), the smaller last batch runs eagerly, and
    each step's statistics are its own. Not bit for bit: the captured update reads its lr as float32."""
    args = [*CONV, *uint8_mnist(tmp_path), "train.precision=bf16", "train.channels_last=true", "sched.name=onecycle",
            "data.augment.flip=true", "train.deterministic=true", "train.epochs=3"]
    runs = [api.run(load_config(None, [*args, *extra]), name=name, out=tmp_path)
            for name, extra in (("eager", []), ("graphed", ["train.cuda_graphs=true"]))]
    assert [r.status for r in runs] == ["completed", "completed"]
    eager, graphed = (load_checkpoint(r.run_dir / "checkpoints" / "last.pt")["model"] for r in runs)
    rel = max(float((graphed[k].float() - eager[k].float()).norm() / eager[k].float().norm().clamp_min(1e-12))
              for k in eager if eager[k].is_floating_point())
    assert rel < 1e-2, rel
    assert runs[1].summary["test_acc"] > 0.9 and abs(runs[1].summary["test_acc"] - runs[0].summary["test_acc"]) < 0.02
    losses = [[float(row["train_loss"]) for row in csv.DictReader((r.run_dir / "metrics.csv").open())] for r in runs]
    assert all(abs(a - b) < 1e-2 * abs(a) for a, b in zip(*losses, strict=True)), losses


def test_the_compiled_model_computes_what_the_eager_one_does(tmp_path):
    """Forward and backward of one training batch through torch.compile's graph and eagerly, from the same weights."""
    cfg = load_config(None, [*CONV, *uint8_mnist(tmp_path), "train.compile=true", "train.channels_last=true"])
    trainer, _ = api.build_trainer(cfg, RunDir.create(tmp_path / "run"), Console(quiet=True))
    x, y = next(iter(trainer.task.train_batches(torch.Generator(device="cuda").manual_seed(0), 1)))
    trainer.module.train()
    results = []
    for model in (trainer.module, trainer.model):
        trainer.module.zero_grad(set_to_none=True)
        out = model(x)
        torch.nn.functional.cross_entropy(out, y).backward()
        results.append((out.detach(), [p.grad.clone() for p in trainer.module.parameters()]))
    (eager, eager_grads), (compiled, compiled_grads) = results
    rel = lambda a, b: float((a - b).norm() / b.norm())  # noqa: E731
    assert rel(compiled, eager) < 1e-2  # TF32 convolutions on both sides
    assert max(rel(c, e) for c, e in zip(compiled_grads, eager_grads, strict=True)) < 5e-2
