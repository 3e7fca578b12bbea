"""Engine overhead: `trainlab run`'s trainer vs a bare hand-written PyTorch loop.

Same model, data, batch size and epochs; runs interleaved (bare, engine, engine, bare, ...) so
drift in machine load hits both. The engine side is exactly what `trainlab run` executes
(metrics CSV, TensorBoard, checkpoints, diagnosis on); the bare side trains, tracks loss and
accuracy the way hand-written loops do, and evaluates the validation split each epoch.

    python benchmarks/engine_overhead.py [--data fashion-mnist] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from machine import machine
from rich.console import Console

from trainlab.api import build_trainer
from trainlab.config import Config, load_config
from trainlab.data import load_dataset
from trainlab.models import build_model
from trainlab.runs import RunDir


def bare_loop(cfg: Config, x: torch.Tensor, y: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor) -> float:
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg.model, tuple(x.shape[1:]), int(y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    bs = cfg.train.batch_size
    gc.collect()
    start = time.perf_counter()
    for _ in range(cfg.train.epochs):
        model.train()
        total, correct = 0.0, 0
        for idx in torch.randperm(len(y)).split(bs):
            xb, yb = x[idx], y[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
        model.eval()
        with torch.no_grad():
            val_correct = sum((model(xb).argmax(1) == yb).sum().item()
                              for xb, yb in zip(xv.split(1024), yv.split(1024), strict=True))
        assert total > 0 and val_correct >= 0
    return time.perf_counter() - start


def engine(cfg: Config, workdir: Path, i: int) -> float:
    run = RunDir.create(workdir / f"run{i}")
    trainer, _ = build_trainer(cfg, run, Console(quiet=True))
    gc.collect()  # the previous run's trainer and data copies are freed now, not inside the timed loop
    start = time.perf_counter()
    trainer.fit()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="fashion-mnist")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("overrides", nargs="*", help="extra key=value config overrides")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(None, [f"data.name={args.data}", "model.name=mlp", "model.hidden=[256,128]",
                             "train.epochs=1", "train.batch_size=128", "train.quiet=true", "train.device=cpu",
                             *args.overrides])
    data = load_dataset(cfg.data)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xv, yv = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
    print(machine())
    diagnosis = "on" if cfg.diagnose.enabled else "off"
    print(f"workload: {cfg.data.name} ({len(y)} train, {len(yv)} val), {cfg.model.name} {cfg.model.hidden}, "
          f"batch {cfg.train.batch_size}, {cfg.train.epochs} epoch(s), diagnosis {diagnosis}")
    bare_t, engine_t = [], []
    with tempfile.TemporaryDirectory() as tmp:
        engine(cfg, Path(tmp), -1)  # warm-up: imports, allocator, TensorBoard
        bare_loop(cfg, x, y, xv, yv)
        for i in range(args.repeats):
            if i % 2 == 0:
                bare_t.append(bare_loop(cfg, x, y, xv, yv))
                engine_t.append(engine(cfg, Path(tmp), i))
            else:
                engine_t.append(engine(cfg, Path(tmp), i))
                bare_t.append(bare_loop(cfg, x, y, xv, yv))
    b, e = statistics.median(bare_t), statistics.median(engine_t)
    print(f"bare loop: median {b:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in bare_t)})")
    print(f"engine:    median {e:.3f}s  (runs: {', '.join(f'{t:.3f}' for t in engine_t)})")
    print(f"ratio engine/bare: {e / b:.3f} of medians, {min(engine_t) / min(bare_t):.3f} of best runs"
          "  (target <= 1.03)")


if __name__ == "__main__":
    main()
