"""Engine overhead: `trainlab run`'s trainer vs a bare hand-written PyTorch loop, on a noisy machine.

Same model, data, batch size, optimiser and epochs on both sides. Three measurements:

1. Whole epochs, interleaved (bare, engine, engine, bare, ...) `--repeats` times: the engine side is
   the trainer `trainlab run` builds (metrics CSV, TensorBoard, checkpoints; `--diagnose` adds the
   diagnosis callbacks), the bare side trains, tracks loss and accuracy with `.item()` the way
   hand-written loops do and evaluates the validation split each epoch. Wall time and process CPU
   time (user + sys, all threads) of each; the ratio of the minimums (the least-disturbed runs), of the
   medians, and the median of each repeat's own ratio (its two sides ran back to back). Inside each
   engine run, the CPU time of `fit` beyond its training steps and validation passes: the run's own
   work (metrics row, TensorBoard, checkpoints), measured within the run, so the noise between runs
   does not enter it.
2. The hot loop alone, in one process: `--chunk`-step chunks of `Trainer.train_epoch` and of the bare
   steps, back to back `--pairs` times. Two chunks ~0.1 s apart see the same machine, so the paired
   difference cancels the drift that separates whole runs (±15% on a shared VM); its median per step,
   with a 95% interval, is the engine's per-step overhead in microseconds.
3. The validation pass alone, paired the same way (`--val-pairs`).

The whole-run ratio is then also composed from the parts, each measured where the noise cancels:
(bare run + steps × per-step overhead + validation difference + own work) / bare run.

With `--lightning` (the `bench` extra), a LightningModule of the same model, data and optimiser is
timed the same way as (1), with its logging of loss and accuracy per step.

    python benchmarks/engine_overhead.py [--repeats 10] [--pairs 200] [--chunk 16] [--val-pairs 60]
                                         [--threads N] [--diagnose] [--lightning] [key=value ...]
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from itertools import count, islice
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `trainlab` sets it: no spinning threads on a shared CPU

import torch
import torch.nn.functional as F
from machine import machine
from rich.console import Console

from trainlab.api import Start, build_trainer, prepare_start
from trainlab.config import Config, load_config
from trainlab.engine import Trainer
from trainlab.engine.device import epoch_generator
from trainlab.models import build_model
from trainlab.runs import RunDir

Timing = tuple[float, float]  # (wall, cpu) seconds


def timed(fn: Callable[[], object]) -> Timing:
    gc.collect()  # the previous run's garbage is freed now, not inside the timed region
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class Bare:
    """The hand-written loop: a model, Adam, shuffled index batches, `.item()` bookkeeping."""

    def __init__(self, cfg: Config, trainer: Trainer) -> None:
        self.x, self.y = resident(trainer, "train")
        self.xv, self.yv = resident(trainer, "val")
        self.cfg = cfg
        torch.manual_seed(cfg.train.seed)
        self.model = build_model(cfg.model, tuple(self.x.shape[1:]), int(self.y.max()) + 1)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.optim.lr)
        self.stream = self._indices()

    def steps(self, k: int | None = None) -> int:
        """One epoch of training steps, or the next `k` steps of an endless stream of epochs; returns how many."""
        self.model.train()
        total, correct, n = 0.0, 0, 0
        order = torch.randperm(len(self.y)).split(self.cfg.train.batch_size) if k is None else islice(self.stream, k)
        for idx in order:
            xb, yb = self.x[idx], self.y[idx]
            out = self.model(xb)
            loss = F.cross_entropy(out, yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += loss.item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
            n += 1
        assert total > 0 and correct >= 0
        return n

    def validate(self) -> int:
        """The validation split's correct predictions."""
        self.model.eval()
        with torch.no_grad():
            return sum(int((self.model(xb).argmax(1) == yb).sum().item())
                       for xb, yb in zip(self.xv.split(1024), self.yv.split(1024), strict=True))

    def epochs(self) -> None:
        for _ in range(self.cfg.train.epochs):
            self.steps()
            assert self.validate() >= 0

    def _indices(self) -> Iterator[torch.Tensor]:
        while True:
            yield from torch.randperm(len(self.y)).split(self.cfg.train.batch_size)


def resident(trainer: Trainer, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's inputs as float32 model inputs (uint8 images normalised once) and labels, as a hand-written loop
    holds them."""
    s = trainer.task.splits[split]  # type: ignore[attr-defined]
    return s.inputs(s.x), s.y


class EpochWork:
    """Process CPU seconds a trainer spends in its training steps and validation passes: the rest of `fit` is the
    run's own work (callbacks: metrics row, TensorBoard; checkpoints)."""

    def __init__(self, trainer: Trainer) -> None:
        self.cpu = 0.0
        for name in ("train_epoch", "evaluate"):
            setattr(trainer, name, self.counted(getattr(trainer, name)))

    def counted(self, fn: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            start = time.process_time()
            try:
                return fn(*args)
            finally:
                self.cpu += time.process_time() - start
        return call


def engine_run(cfg: Config, start: Start, workdir: Path, i: int, own: list[float]) -> Timing:
    """A fresh model on the already loaded task, trained by the trainer `trainlab run` builds; the CPU seconds of
    its run's own work are appended to `own`."""
    torch.manual_seed(cfg.train.seed)
    run = RunDir.create(workdir / f"run{i}")
    trainer, _ = build_trainer(cfg, run, Console(quiet=True), start=Start(start.task, start.task.build_model()))
    work = EpochWork(trainer)
    t = timed(trainer.fit)
    own.append(t[1] - work.cpu)
    return t


class Batches:
    """Shuffled (or ordered) index-slice batches of resident tensors, as both other sides batch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, size: int, shuffle: bool) -> None:
        self.x, self.y, self.size, self.shuffle = x, y, size, shuffle

    def __len__(self) -> int:
        return -(-len(self.y) // self.size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.y)) if self.shuffle else torch.arange(len(self.y))
        for idx in order.split(self.size):
            yield self.x[idx], self.y[idx]


def lightning_run(cfg: Config, trainer: Trainer, workdir: Path) -> Timing:
    import lightning as L  # the `bench` extra

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # its banners and tips, once per fit

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = build_model(cfg.model, tuple(resident(trainer, "train")[0].shape[1:]), 10)

        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
            x, y = batch
            out = self.net(x)
            loss = F.cross_entropy(out, y)
            self.log("train_loss", loss, on_epoch=True)
            self.log("train_acc", (out.argmax(1) == y).float().mean(), on_epoch=True)
            return loss

        def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
            x, y = batch
            self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=cfg.optim.lr)

    loader = lambda s, bs, shuffle: Batches(*resident(trainer, s), bs, shuffle)  # noqa: E731
    torch.manual_seed(cfg.train.seed)
    fit = L.Trainer(max_epochs=cfg.train.epochs, accelerator="cpu", devices=1, logger=False,
                    enable_progress_bar=False, enable_model_summary=False, default_root_dir=workdir,
                    enable_checkpointing=True)
    module = Module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation notices about its own dependencies
        return timed(lambda: fit.fit(module, loader("train", cfg.train.batch_size, True), loader("val", 1024, False)))


def summary(name: str, runs: list[Timing]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (f"{name:<10} wall min {min(walls):.3f}s median {statistics.median(walls):.3f}s | "
            f"cpu min {min(cpus):.3f}s median {statistics.median(cpus):.3f}s  ({len(runs)} runs)")


def ratios(name: str, a: list[Timing], b: list[Timing]) -> str:
    out = []
    for k, label in ((0, "wall"), (1, "cpu")):
        xa, xb = [t[k] for t in a], [t[k] for t in b]
        paired = statistics.median(x / y for x, y in zip(xa, xb, strict=True))  # each repeat's sides ran back to back
        out.append(f"{label}: {min(xa) / min(xb):.3f} of minimums, "
                   f"{statistics.median(xa) / statistics.median(xb):.3f} of medians, {paired:.3f} median of pairs")
    return f"{name}: " + "; ".join(out)


def chunks(trainer: Trainer, bare: Bare, k: int) -> tuple[Callable[[], object], Callable[[], object]]:
    """(engine, bare): each call trains the next `k` steps of an endless stream of shuffled epochs. The engine side
    is `Trainer.train_epoch` on `k` of the task's batches, so its per-epoch work (generator, train mode, the loss
    check) is counted once per chunk: a little more often than in a run, never less."""
    task, seed = trainer.task, trainer.cfg.train.seed
    batches = task.train_batches

    def epochs() -> Iterator[object]:
        for epoch in count(1):
            yield from batches(epoch_generator(seed, epoch, trainer.device), epoch)

    stream = epochs()
    task.train_batches = lambda gen, epoch: islice(stream, k)  # type: ignore[method-assign]
    trainer._bind_hooks()
    return (lambda: trainer.train_epoch(1)), (lambda: bare.steps(k))


def median_ci(xs: list[float]) -> tuple[float, float, float]:
    """The median and its 95% confidence interval by order statistics (no assumption about the distribution)."""
    xs = sorted(xs)
    n = len(xs)
    half = 1.96 * math.sqrt(n) / 2
    return statistics.median(xs), xs[max(0, math.floor(n / 2 - half))], xs[min(n - 1, math.ceil(n / 2 + half))]


def paired(a: Callable[[], object], b: Callable[[], object], pairs: int) -> list[tuple[Timing, Timing]]:
    """`pairs` back-to-back timings of `a` and `b`, the order alternating."""
    out = []
    for i in range(pairs):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t1, t2 = timed(first), timed(second)
        out.append((t1, t2) if i % 2 == 0 else (t2, t1))
    return out


def per_step(trainer: Trainer, bare: Bare, k: int, pairs: int) -> tuple[float, float, float]:
    """The hot loop alone: `k`-step chunks of the engine's loop and of the bare steps, back to back `pairs` times.
    Adjacent chunks (~k × 4 ms) share the machine's state, so their difference cancels most of its drift; the
    median difference per step, with its 95% interval, is the engine's per-step overhead. Returns it (cpu s)."""
    engine, raw = chunks(trainer, bare, k)
    for f in (engine, raw):
        f()  # warm-up
    runs = paired(engine, raw, pairs)
    result = (0.0, 0.0, 0.0)
    for i, label in ((0, "wall"), (1, "cpu")):
        e, b = [t[0][i] / k for t in runs], [t[1][i] / k for t in runs]
        mid, lo, hi = median_ci([x - y for x, y in zip(e, b, strict=True)])
        ratio = statistics.median(x / y for x, y in zip(e, b, strict=True))
        print(f"hot loop {label}: engine {statistics.median(e) * 1e6:,.0f} µs/step, bare "
              f"{statistics.median(b) * 1e6:,.0f} µs/step (medians); engine overhead {mid * 1e6:+.1f} µs/step "
              f"(95% CI {lo * 1e6:+.1f} to {hi * 1e6:+.1f}; median of paired ratios {ratio:.3f}; "
              f"{pairs} pairs of {k}-step chunks)")
        result = (mid, lo, hi)
    return result


def per_validation(trainer: Trainer, bare: Bare, pairs: int) -> float:
    """The validation pass, engine (`Trainer.evaluate`) against the bare loop's, back to back: the median
    difference in CPU seconds."""
    runs = paired(lambda: trainer.evaluate("val"), bare.validate, pairs)
    mid, lo, hi = median_ci([e[1] - b[1] for e, b in runs])
    print(f"validation pass cpu: engine {statistics.median(e[1] for e, _ in runs) * 1e3:.1f} ms, bare "
          f"{statistics.median(b[1] for _, b in runs) * 1e3:.1f} ms (medians); difference {mid * 1e3:+.2f} ms "
          f"(95% CI {lo * 1e3:+.2f} to {hi * 1e3:+.2f}; {pairs} pairs)")
    return mid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="fashion-mnist")
    ap.add_argument("--repeats", type=int, default=10, help="interleaved whole-epoch runs of each side")
    ap.add_argument("--pairs", type=int, default=200, help="back-to-back hot-loop chunks of each side")
    ap.add_argument("--chunk", type=int, default=16, help="training steps per hot-loop chunk")
    ap.add_argument("--val-pairs", type=int, default=60, help="back-to-back validation passes of each side")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--diagnose", action="store_true", help="engine with the diagnosis callbacks on")
    ap.add_argument("--lightning", action="store_true", help="also time Lightning (pip install '.[bench]')")
    ap.add_argument("overrides", nargs="*", help="extra key=value config overrides")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(None, [f"data.name={args.data}", "model.name=mlp", "model.hidden=[256,128]",
                             "train.epochs=1", "train.batch_size=128", "train.quiet=true", "train.device=cpu",
                             f"diagnose.enabled={str(args.diagnose).lower()}", *args.overrides])
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        start = prepare_start(cfg)  # the data are loaded once; each engine run gets a fresh model
        probe, _ = build_trainer(cfg, RunDir.create(Path(tmp) / "probe"), Console(quiet=True), start=start)
        bare = Bare(cfg, probe)
        print(f"workload: {cfg.data.name} ({len(bare.y)} train, {len(bare.yv)} val), {cfg.model.name} "
              f"{getattr(cfg.model, 'hidden', '')}, batch {cfg.train.batch_size}, {cfg.train.epochs} epoch(s), "
              f"diagnosis {'on' if args.diagnose else 'off'}, {args.threads} thread(s), pid {os.getpid()}")
        own: list[float] = []  # per engine run: CPU seconds of fit beyond its training steps and validation
        engine_run(cfg, start, Path(tmp), -1, [])  # warm-up: imports, allocator, TensorBoard
        bare.epochs()
        bare_t: list[Timing] = []
        engine_t: list[Timing] = []
        light_t: list[Timing] = []
        for i in range(args.repeats):
            sides: list[tuple[list[Timing], Callable[[], Timing]]] = [
                (bare_t, lambda: timed(Bare(cfg, probe).epochs)),
                (engine_t, lambda n=i: engine_run(cfg, start, Path(tmp), n, own))]
            if args.lightning:
                sides.append((light_t, lambda n=i: lightning_run(cfg, probe, Path(tmp) / f"pl{n}")))
            for out, side in sides if i % 2 == 0 else reversed(sides):
                out.append(side())
        print(summary("bare", bare_t))
        print(summary("engine", engine_t))
        print(ratios("engine/bare", engine_t, bare_t) + "  (target <= 1.02 by CPU time)")
        print(f"engine run's own work (fit beyond its training steps and validation: callbacks, checkpoints): "
              f"cpu median {statistics.median(own) * 1e3:.1f} ms, min {min(own) * 1e3:.1f} ms "
              f"({statistics.median(own) / statistics.median(c for _, c in engine_t):.2%} of the median engine run)")
        if light_t:
            print(summary("lightning", light_t))
            print(ratios("lightning/bare", light_t, bare_t))
            steps = probe.task.num_train_batches() * cfg.train.epochs
            for name, runs in (("engine", engine_t), ("lightning", light_t)):
                extra = (statistics.median(c for _, c in runs) - statistics.median(c for _, c in bare_t))
                print(f"{name} overhead per epoch (medians, cpu): {extra / cfg.train.epochs:+.3f}s "
                      f"({extra / steps * 1e6:+.0f} µs/step)")
        step = per_step(probe, bare, args.chunk, args.pairs)
        val = per_validation(probe, bare, args.val_pairs)
        base, mine = statistics.median(c for _, c in bare_t), statistics.median(own)
        steps = probe.task.num_train_batches() * cfg.train.epochs

        def whole(d: float) -> float:
            return (base + steps * d + cfg.train.epochs * val + mine) / base

        print(f"engine/bare for a whole run from its measured parts (cpu): {whole(step[0]):.3f} (95% CI of the "
              f"steps' part {whole(step[1]):.3f} to {whole(step[2]):.3f}) = bare run {base:.3f} s + {steps} steps × "
              f"{step[0] * 1e6:+.1f} µs + {cfg.train.epochs} validation pass(es) × {val * 1e3:+.2f} ms + own work "
              f"{mine * 1e3:.1f} ms  (target <= 1.02)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
