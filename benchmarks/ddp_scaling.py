"""DDP scaling on the CPU: the same run (same config, same global batch) in 1 process and under torchrun in N.

Each launch is the real command (`python -m trainlab run …` and `python -m torch.distributed.run
--nproc_per_node N -m trainlab run …`), one torch thread per process, gloo on the loopback interface; a
third row gives the single process N threads (the same cores as N processes, used by intra-op threads
instead). Launches rotate so drift in machine load hits all rows. Per launch: the median epoch time
from metrics.csv (training and the shared validation pass), training images per second over it, and the
whole command's wall time (start-up, data loading and the test pass included).

    python benchmarks/ddp_scaling.py [--procs 2] [--repeats 2] [key=value ...]
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

from trainlab.config import load_config
from trainlab.data import load_dataset

DEFAULTS = ["configs/fashion_mnist.yaml", "data.subset=12000", "train.epochs=3", "train.batch_size=128",
            "train.device=cpu", "train.quiet=true", "diagnose.enabled=false"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(procs: int, threads: int, args: list[str], out: Path, name: str) -> tuple[float, list[float]]:
    """(wall time of the command, the epoch times from metrics.csv)."""
    if procs == 1:
        cmd = [sys.executable, "-m", "trainlab"]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "-m", "trainlab"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GLOO_SOCKET_IFNAME": "lo"}
    start = time.perf_counter()
    subprocess.run([*cmd, "run", *args, f"train.threads={threads}", "--name", name, "--out", str(out)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    with (out / name / "metrics.csv").open() as f:
        return wall, [float(r["epoch_time_s"]) for r in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="key=value overrides after the defaults")
    a = ap.parse_args()
    args = [*DEFAULTS, *a.overrides]
    cfg = load_config(Path(args[0]), args[1:])
    n_train = len(load_dataset(cfg.data).y_train)
    print(machine())
    print(f"workload: {cfg.data.name} ({n_train} train), {cfg.model.name}, global batch {cfg.train.batch_size}, "
          f"{cfg.train.epochs} epochs, 1 torch thread per process; epoch = training + validation")
    setups = [(1, 1), (a.procs, 1), (1, a.procs)]  # (processes, threads per process)
    results: dict[tuple[int, int], list[tuple[float, list[float]]]] = {s: [] for s in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.repeats):
            for procs, threads in setups[i % 3:] + setups[:i % 3]:
                results[procs, threads].append(launch(procs, threads, args, Path(tmp), f"p{procs}t{threads}-{i}"))
    print(f"{'processes':>9}  {'threads':>7}  {'epoch s (median)':>16}  {'train img/s':>11}  {'command wall s':>14}")
    base = None
    for (procs, threads), runs in results.items():
        epoch = statistics.median(t for _, times in runs for t in times[1:] or times)  # the first epoch warms up
        wall = statistics.median(w for w, _ in runs)
        base = base or epoch
        print(f"{procs:>9}  {threads:>7}  {epoch:>16.2f}  {n_train / epoch:>11,.0f}  {wall:>14.1f}"
              f"   speed-up {base / epoch:.2f}x")
    print(f"machine load after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
