"""Cleaning throughput of `trainlab data images`: files/s with 1 process and with every usable CPU.

Writes the dirty Fashion-MNIST folder of make_folder.py (10,000 files by default) unless SRC holds
one, then cleans it from scratch (--force) with each worker count, interleaved over --repeats.

    python benchmarks/clean_throughput.py [--src /tmp/fm/src] [--size 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from machine import machine
from make_folder import write_folder

from trainlab.data.folder.clean import clean
from trainlab.data.folder.decode import CleanOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path(tempfile.gettempdir()) / "trainlab-fm" / "src")
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not args.src.is_dir():
        write_folder(args.src, args.per_class)
    cpus = len(os.sched_getaffinity(0))
    rates: dict[int, list[float]] = {1: [], cpus: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for workers in rates:
                r = clean(args.src, Path(tmp) / "out", CleanOptions(size=args.size), (0.8, 0.1, 0.1),
                          workers=workers, force=True)
                rates[workers].append(r.rate)
    print(machine())
    print(f"{r.files} files ({r.stats['kept']} kept, {r.stats['rejected']} rejected), --size {args.size}")
    for workers, values in rates.items():
        print(f"workers {workers}: {statistics.median(values):7.0f} files/s  (runs: "
              f"{', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
