"""torchrun DDP on the CPU: gloo, 2 processes, digits, loopback only.

The 2-process runs go through `python -m torch.distributed.run … -m trainlab`, the command users type. A
`sitecustomize` put on the processes' path watches the ranks other than 0 (every file they open for writing, or
make, under the test's directory is reported on stderr) and, when asked, makes rank 1 fail at the start of epoch 2.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from clitools import main_in_process

from trainlab.config.schema import TrainConfig
from trainlab.data.tensors import TensorSplit, shard_rows
from trainlab.engine import distributed
from trainlab.errors import ConfigError
from trainlab.evaluation import evaluate
from trainlab.tasks.char_lm.data import StreamSplit

# 360 training examples in batches of 32: 11 full batches and a trailing one of 8 (4 per rank)
ARGS = ["data.subset=400", "train.epochs=2", "train.batch_size=32", "model.hidden=[64]", "diagnose.enabled=false"]
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")
# float32 sums in another order: a rank's mean gradient over 16 examples, averaged over the 2 ranks by the
# all-reduce, is the mean over the 32 only up to rounding; after 24 Adam steps the weights differ by <1e-7 and the
# test loss by ~3e-7 (measured). Accuracies must be equal (the tolerance is far below one example).
ATOL = 1e-4

SITECUSTOMIZE = '''
import os, sys
if os.environ.get("RANK", "0") != "0":
    WATCH = os.environ["DDP_TEST_WATCH"]

    def audit(event, args):
        path = None
        if event == "open" and args[0] is not None and not isinstance(args[0], int):
            mode, flags = args[1] or "", args[2] or 0
            if any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                path = args[0]
        elif event in ("os.mkdir", "os.rename", "os.remove", "shutil.rmtree"):
            path = args[0]
        if path is not None and os.fspath(path).startswith(WATCH):
            sys.stderr.write(f"rank {os.environ['RANK']} wrote {os.fspath(path)}\\n")

    sys.addaudithook(audit)
if os.environ.get("RANK") == os.environ.get("DDP_TEST_FAIL_RANK"):
    from trainlab.engine.trainer import Trainer

    run_epoch = Trainer._run_epoch

    def failing(self, epoch):
        if epoch == 2:
            raise RuntimeError(f"injected failure in epoch {epoch}")
        return run_epoch(self, epoch)

    Trainer._run_epoch = failing
if os.environ.get("RANK") == "0" and os.environ.get("DDP_TEST_STOP_AFTER"):
    from trainlab.engine.trainer import Trainer

    run_epoch = Trainer._run_epoch

    def stopping(self, epoch):  # as a sweep's pruner does, from a callback: rank 0 alone has callbacks
        out = run_epoch(self, epoch)
        if epoch == int(os.environ["DDP_TEST_STOP_AFTER"]):
            self.request_stop("stopped", "asked by a test")
        return out

    Trainer._run_epoch = stopping
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(root: Path, *args: str, fail_rank: int | None = None, stop_after: int | None = None
             ) -> subprocess.CompletedProcess[str]:
    """`torchrun --nproc_per_node 2 -m trainlab ARGS` on the loopback interface, from `root`; rank `fail_rank`
    fails at the start of epoch 2, rank 0 asks for a stop after epoch `stop_after`."""
    hooks = root / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", "GLOO_SOCKET_IFNAME": "lo",
           "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
           "DDP_TEST_WATCH": str(root / "runs"), "DDP_TEST_FAIL_RANK": str(fail_rank),
           "DDP_TEST_STOP_AFTER": str(stop_after or "")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), "-m", "trainlab", *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300, env=env)


def rows(run: Path) -> list[dict[str, float]]:
    with (run / "metrics.csv").open() as f:
        return [{k: float(r[k]) for k in METRICS} for r in csv.DictReader(f)]


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def files(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and p.parent.name != "tb"}


@dataclass
class Runs:
    """One process (`one`, in this one) and two (torchrun) on the same config: `two` is made to fail on rank 1 in
    epoch 2 (`failed`: that launch), then resumed on two ranks (`resumed`)."""

    one: Path
    two: Path
    failed: subprocess.CompletedProcess[str]
    failed_summary: dict
    resumed: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("ddp")
    mp = pytest.MonkeyPatch()
    code, _, err = main_in_process(mp, _NoCapture(), "run", *ARGS, "--name", "one", "--out", str(root / "runs"))
    mp.undo()
    assert code == 0, err
    failed = torchrun(root, "run", *ARGS, "--name", "two", "--out", "runs", fail_rank=1)
    failed_summary = summary(root / "runs" / "two")
    resumed = torchrun(root, "resume", "runs/two")
    return Runs(root / "runs" / "one", root / "runs" / "two", failed, failed_summary, resumed)


class _NoCapture:
    """What main_in_process reads of capsys (a module-scoped fixture has none; pytest captures the output)."""

    def readouterr(self) -> tuple[str, str]:
        return "", ""


def test_a_failing_rank_stops_the_run_with_a_clear_message(runs: Runs) -> None:
    assert runs.failed.returncode != 0
    assert "rank 1 of 2 failed: RuntimeError: injected failure in epoch 2" in runs.failed.stderr
    s = runs.failed_summary  # rank 0 records the failure and keeps epoch 1's checkpoint
    assert s["status"] == "failed" and "another process of the distributed run failed" in s["failure"]
    assert s["epochs_completed"] == 1


def test_two_ranks_resume_and_train_as_one_process_on_the_same_global_batch(runs: Runs) -> None:
    assert runs.resumed.returncode == 0, runs.resumed.stderr[-3000:]
    one, two = summary(runs.one), summary(runs.two)
    assert two["status"] == "completed" and two["epochs_completed"] == 2
    assert len(rows(runs.two)) == 2
    for a, b in zip(rows(runs.one), rows(runs.two), strict=True):
        for k in METRICS:
            assert b[k] == pytest.approx(a[k], abs=ATOL), k
    for k in ("test_loss", "test_acc"):
        assert two[k] == pytest.approx(one[k], abs=ATOL), k


def test_a_stop_rank_0_asks_for_ends_every_rank(tmp_path: Path) -> None:
    """A callback's request_stop (rank 0's: the others have no callbacks) ends all ranks after the same epoch."""
    r = torchrun(tmp_path, "run", *ARGS, "train.epochs=3", "--name", "stop", "--out", "runs", stop_after=1)
    assert r.returncode == 0, r.stderr[-3000:]
    s = summary(tmp_path / "runs" / "stop")
    assert s["status"] == "stopped" and s["epochs_completed"] == 1 and "failed" not in r.stderr


def test_two_ranks_validate_the_weight_average_with_rank_0s_statistics(tmp_path: Path) -> None:
    """train.ema_decay under DDP: the ranks share the validation split, each scoring the average with rank 0's
    batch-norm statistics (each rank averages its own), so the logged figures are those of the checkpoint's
    weights scored in one process."""
    r = torchrun(tmp_path, "run", *ARGS, "train.ema_decay=0.9", "model.batch_norm=true", "train.eval_batch_size=8",
                 "--name", "ema", "--out", "runs")  # 5 validation batches: both ranks score some
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / "runs" / "ema"
    with (run / "metrics.csv").open() as f:
        last = list(csv.DictReader(f))[-1]
    val = evaluate([run], split="val", checkpoint="last", device="cpu").metrics
    assert val["acc"] == pytest.approx(float(last["val_acc"])), "val_acc"
    assert val["loss"] == pytest.approx(float(last["val_loss"]), rel=1e-5), "val_loss"  # (6 digits in the CSV)
    assert "train_model" in torch.load(run / "checkpoints" / "last.pt", weights_only=True)


def test_only_rank_0_writes(runs: Runs) -> None:
    for launch in (runs.failed, runs.resumed):
        assert " wrote " not in launch.stderr  # rank 1 opened nothing under runs/ for writing, made nothing
    assert files(runs.two) == files(runs.one)
    log = (runs.two / "train.log").read_text()
    assert log.count("epoch 2/2") == 1 and "[rank" not in log
    assert sorted(p.name for p in runs.two.parent.parent.iterdir()) == ["hooks", "runs"]


@pytest.mark.parametrize("world", [2, 3])
def test_rank_shares_make_up_the_global_batch(world: int) -> None:
    split = TensorSplit(torch.arange(70.0).view(35, 2), torch.arange(35))
    batch_size = 6 * world

    def epoch(rank: int, w: int) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(7)
        return [shard_rows(y, (rank, w)) for _, y in split.batches(batch_size, gen, world=w)]

    whole = epoch(0, 1)
    shares = [epoch(r, world) for r in range(world)]
    assert all(len(s) == len(shares[0]) == split.num_batches(batch_size, shuffle=True, world=world) for s in shares)
    for i, parts in enumerate(zip(*shares, strict=True)):
        assert len({len(p) for p in parts}) == 1  # equal shares
        joined = torch.cat(parts)
        assert torch.equal(joined, whole[i][:len(joined)])  # in order, the leftover (< world rows) at the end

    stream = StreamSplit(torch.arange(35).view(35, 1), torch.arange(35).view(35, 1))
    got = [list(stream.batches(batch_size, torch.Generator().manual_seed(1), (r, world))) for r in range(world)]
    assert {len(g) for g in got} == {stream.num_batches(batch_size, world)}


def test_the_global_batch_must_split_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="multiple of 2"):
        distributed.setup(TrainConfig(batch_size=33), torch.device("cpu"))
    with pytest.raises(ConfigError, match="at least 4"):
        distributed.setup(TrainConfig(batch_size=2), torch.device("cpu"))
    assert not distributed.active() and distributed.shard() == (0, 1)
