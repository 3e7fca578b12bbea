"""Generate Mathematics text files in the official layout: plan, reuse, launch, report.

Sampling runs in a separate process started with a fixed string-hash seed (``worker``),
which forks the sampling processes; every chunk of examples is seeded from
``(seed, directory, module, chunk index)``, so the files depend on the seed only, not on
the number of workers or on the calling process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from trainlab.data.math import catalog, determinism
from trainlab.data.math.layout import FileJob, is_finished
from trainlab.data.math.worker import chunk_sizes
from trainlab.errors import DataError, UserError


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    examples: int
    cached: bool


@dataclass(frozen=True)
class GenerationResult:
    files: list[WrittenFile]
    generated: int  # examples sampled by this call (cached files not counted)
    seconds: float
    workers: int

    @property
    def rate(self) -> float:
        """Examples generated per second of wall time."""
        return self.generated / self.seconds if self.seconds > 0 else 0.0


def plan(
    modules: Sequence[str], per_module: int, difficulty: str, interpolate_per_module: int
) -> list[FileJob]:
    """The files to write; with ``mixed``, ``per_module`` is shared by the three train dirs."""
    if per_module < 1 or interpolate_per_module < 0:
        raise UserError(
            f"bad example counts (per module {per_module}, test {interpolate_per_module})",
            "use --per-module >= 1 and --interpolate-per-module >= 0",
        )
    dirs = catalog.train_dirs(difficulty)
    table = catalog.samplers()
    jobs: list[FileJob] = []
    for module in catalog.check_modules(modules, table["train-easy"]):
        shares = [per_module // len(dirs) + (i < per_module % len(dirs)) for i in range(len(dirs))]
        jobs += [FileJob(d, module, n) for d, n in zip(dirs, shares, strict=True)]
        if interpolate_per_module:
            jobs.append(FileJob("interpolate", module, interpolate_per_module))
            variants = catalog.extrapolation_variants(module, table["extrapolate"])
            jobs += [FileJob("extrapolate", name, interpolate_per_module) for name in variants]
    return jobs


def generate(
    modules: Sequence[str] = catalog.DEFAULT_MODULES,
    per_module: int = 1000,
    difficulty: str = "easy",
    out_dir: str | Path = "data/math",
    seed: int = 0,
    workers: int | None = None,
    interpolate_per_module: int | None = None,
) -> GenerationResult:
    """Write train (and interpolate/extrapolate) files under ``out_dir``; reuse finished ones.

    ``interpolate_per_module`` defaults to a tenth of ``per_module`` (at least 1); 0 skips
    the test sets. ``workers`` defaults to the usable CPU count.
    """
    start = time.perf_counter()
    if workers is not None and workers < 1:
        raise UserError(f"bad worker count {workers}", "use --workers >= 1")
    if interpolate_per_module is None:
        interpolate_per_module = max(1, per_module // 10)
    jobs = plan(modules, per_module, difficulty, interpolate_per_module)
    out = Path(out_dir)
    cached = [is_finished(out, job, seed) for job in jobs]
    todo = [job for job, hit in zip(jobs, cached, strict=True) if not hit]
    chunks = sum(len(chunk_sizes(job.count)) for job in todo)
    workers = max(1, min(workers or _usable_cpus(), chunks))
    if todo:
        _launch(out, todo, seed, workers)
    files = [WrittenFile(out / j.relpath, j.count, hit) for j, hit in zip(jobs, cached, strict=True)]
    generated = sum(job.count for job in todo)
    return GenerationResult(files, generated, time.perf_counter() - start, workers)


def _launch(out: Path, jobs: list[FileJob], seed: int, workers: int) -> None:
    """Run ``trainlab.data.math.worker`` with the job spec on stdin and a fixed hash seed."""
    spec = {"out": str(out), "seed": seed, "workers": workers, "jobs": [asdict(j) for j in jobs]}
    src = str(Path(catalog.__file__).resolve().parents[3])  # the dir holding trainlab/
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONHASHSEED": determinism.HASH_SEED, "PYTHONPATH": path}
    command = [sys.executable, "-m", "trainlab.data.math.worker"]
    done = subprocess.run(command, input=json.dumps(spec), text=True, env=env, check=False)
    if done.returncode:
        raise DataError(
            f"the generation process failed (exit code {done.returncode})",
            "see its error output above; finished files are kept and reused on the next run",
        )


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
