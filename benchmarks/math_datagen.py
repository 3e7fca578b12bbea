"""Generation rate of DeepMind Mathematics data (target: 100k examples of the 9 default
modules in <= 30 s on a 2-core machine).

    python benchmarks/math_datagen.py [--examples 100000] [--workers N]

Prints the machine, the end-to-end rate of ``generate`` (process start-up, package import,
sampling and writing included) with the CPU time it used, and the warm single-process
sampling rate per module, with and without ``trainlab.data.math.speedups``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import resource
import tempfile
import time

import sympy
from machine import machine

from trainlab.data.math import catalog, speedups
from trainlab.data.math.generation import generate
from trainlab.data.math.worker import sample_chunk


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished child processes."""
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def warm_rate(modules: list[str], per_module: int) -> tuple[float, dict[str, float]]:
    """Single-process examples/s over ``modules`` after a warm-up, and ms per example."""
    ms: dict[str, float] = {}
    for module in modules:
        sample_chunk(("train-easy", module, 0, 20, 1))
        start = time.perf_counter()
        sample_chunk(("train-easy", module, 1, per_module, 1))
        ms[module] = (time.perf_counter() - start) / per_module * 1e3
    return len(modules) * 1e3 / sum(ms.values()), ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--warm-per-module", type=int, default=500)
    args = parser.parse_args()
    modules = list(catalog.DEFAULT_MODULES)
    print(machine())

    with tempfile.TemporaryDirectory() as out:
        per_module = math.ceil(args.examples / len(modules))
        cpu = cpu_seconds()
        r = generate(modules, per_module, "easy", out, workers=args.workers, interpolate_per_module=0)
        cpu = cpu_seconds() - cpu
    verdict = "meets" if r.rate >= 100_000 / 30 else "misses"
    print(
        f"generate: {r.generated} examples, {len(modules)} modules, {r.workers} workers: "
        f"{r.seconds:.1f} s = {r.rate:.0f} examples/s ({verdict} 100k in 30 s)"
    )
    print(f"  CPU time {cpu:.1f} s (all processes) = {r.generated / cpu:.0f} examples per CPU-second")

    fast, ms = warm_rate(modules, args.warm_per_module)
    for name in speedups.PATCHED_MODULES:
        importlib.import_module(name).sympy = sympy
    slow, slow_ms = warm_rate(modules, args.warm_per_module)
    print(f"warm, 1 process: {fast:.0f} examples/s with integer fast paths, {slow:.0f} without")
    for module in modules:
        print(f"  {module:28} {ms[module]:6.3f} ms/example ({slow_ms[module]:.3f} without)")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
