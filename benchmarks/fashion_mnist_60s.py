"""The whole `trainlab run` command on a Fashion-MNIST recipe, timed from outside: wall time, CPU time, and
the run's own split (start-up, each epoch, final evaluation, the rest) from its summary.json.

    python benchmarks/fashion_mnist_60s.py [--config configs/fashion_mnist_fast.yaml] [--runs 1] [key=value ...]

Each run is a fresh process (`python -m trainlab run CONFIG --out OUT train.quiet=true ...`), so imports and
the data load count, as they do for a user. Target: >= 92% test in <= 60 s wall on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "fashion_mnist_fast.yaml")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "trainlab", "run", str(args.config), "--out", out, "--name", f"r{i}",
                            "train.quiet=true", *args.overrides], check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            summary = json.loads((Path(out) / f"r{i}" / "summary.json").read_text())
            t = summary["timing"]
            epochs = ", ".join(f"{e:.1f}" for e in t["epochs_s"])
            print(f"run {i + 1}: test acc {summary.get('test_acc', float('nan')):.4f}  wall {wall:.1f}s  "
                  f"cpu {cpu:.1f}s (user+sys)  | start-up {t['startup_s']:.1f}s, epochs {t['train_s']:.1f}s "
                  f"({epochs}), final evaluation {t['final_eval_s']:.1f}s, rest {t['other_s']:.1f}s  "
                  f"| load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
