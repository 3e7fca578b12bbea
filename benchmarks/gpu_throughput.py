"""Training throughput and time-to-accuracy of a config (default: the GPU Fashion-MNIST recipe).

The trainer `trainlab run` builds trains epoch by epoch (`Trainer.train_epoch`: the hot loop alone,
timed with the device synchronised); after each epoch the test split is scored, untimed. Prints each
epoch's seconds, images/s and test accuracy, then the training time until the test accuracy first
reached `--target`, both as measured (the first epoch includes torch.compile's compilation) and with the
first epoch counted at the steady pace of the others.

Without a GPU it runs the same code on the CPU with a tiny budget (a 2,048-image subset, two epochs, a
narrow model, no compilation) so that it is checked everywhere; `--full` keeps the config as it is.

    python benchmarks/gpu_throughput.py [--config configs/fashion_mnist_gpu.yaml] [--target 0.94] [--full]
                                        [key=value ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `trainlab` sets it: no spinning threads on a shared CPU

import torch
from machine import machine
from rich.console import Console

from trainlab.api import build_trainer, prepare_start
from trainlab.config import load_config
from trainlab.engine.device import resolve_device
from trainlab.runs import RunDir

ROOT = Path(__file__).resolve().parent.parent
CPU_BUDGET = ["data.subset=2048", "train.epochs=2", "train.compile=false", "model.initial_channels=8"]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "fashion_mnist_gpu.yaml")
    ap.add_argument("--target", type=float, default=0.94, help="test accuracy of the time-to-accuracy figure")
    ap.add_argument("--full", action="store_true", help="the config as it is, even on the CPU")
    ap.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = ap.parse_args()
    cfg = load_config(args.config, args.overrides)
    device = resolve_device(cfg.train.device)
    tiny = device.type == "cpu" and not args.full
    if tiny:
        cfg = load_config(args.config, [*CPU_BUDGET, *args.overrides])
    print(machine())
    print(f"config {args.config.name}{' with the CPU budget ' + ' '.join(CPU_BUDGET) if tiny else ''}; "
          f"{cfg.model.name}, batch {cfg.train.batch_size}, {cfg.train.precision}, channels-last "
          f"{cfg.train.channels_last}, compile {cfg.train.compile}, cuda_graphs {cfg.train.cuda_graphs}, "
          f"device {device}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        trainer, _ = build_trainer(cfg, RunDir.create(Path(tmp) / "run"), Console(quiet=True), start=prepare_start(cfg))
        print(f"data and model ready in {time.perf_counter() - start:.1f}s; "
              f"{trainer.task.num_train_batches()} steps per epoch")
        times: list[float] = []
        reached: int | None = None
        for epoch in range(1, cfg.train.epochs + 1):
            sync(device)
            t = time.perf_counter()
            trainer.examples_seen = 0
            trainer.train_epoch(epoch)
            sync(device)
            times.append(time.perf_counter() - t)
            acc = trainer.evaluate("test")["acc"]
            print(f"epoch {epoch:>2}: {times[-1]:6.2f}s  {trainer.examples_seen / times[-1]:>10,.0f} images/s  "
                  f"test acc {acc:.4f}")
            if reached is None and acc >= args.target:
                reached = epoch
    steady = statistics.median(times[1:]) if len(times) > 1 else times[0]
    print(f"steady pace: {steady:.2f}s per epoch; first epoch (compilation included) {times[0]:.2f}s")
    if reached is None:
        print(f"test accuracy {args.target:.2%} not reached in {cfg.train.epochs} epochs ({sum(times):.1f}s)")
    else:
        print(f"time to {args.target:.2%} test accuracy: {sum(times[:reached]):.1f}s measured, "
              f"{steady * reached:.1f}s at the steady pace ({reached} epochs)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
