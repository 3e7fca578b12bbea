"""The sampling process: ``python -m trainlab.data.math.worker`` < job spec (JSON).

``generation.generate`` starts it with a fixed ``PYTHONHASHSEED`` (see ``determinism``).
It loads ``mathematics_dataset`` once, forks the sampling processes (which inherit the
loaded package and the hash seed), and writes each file as its chunks arrive in order.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
from collections.abc import Iterator
from pathlib import Path

from trainlab.data.math import catalog, determinism
from trainlab.data.math.layout import FileJob, write_examples

CHUNK_SIZE = 500  # examples per seeded chunk; changing it changes the generated files

Task = tuple[str, str, int, int, int]  # directory, module, chunk index, count, seed


def chunk_sizes(count: int) -> list[int]:
    return [min(CHUNK_SIZE, count - i) for i in range(0, count, CHUNK_SIZE)]


def chunk_seed(seed: int, directory: str, module: str, index: int) -> int:
    digest = hashlib.sha256(f"{seed}/{directory}/{module}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def sample_chunk(task: Task) -> list[tuple[str, str]]:
    """``count`` (question, answer) pairs; over-long ones are dropped as generate.py does."""
    from mathematics_dataset.generate_settings import MAX_ANSWER_LENGTH, MAX_QUESTION_LENGTH

    directory, module, index, count, seed = task
    sampler = catalog.samplers()[directory][module]
    determinism.seed(chunk_seed(seed, directory, module, index))
    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        problem = sampler()
        question, answer = str(problem.question), str(problem.answer)
        if len(question) <= MAX_QUESTION_LENGTH and len(answer) <= MAX_ANSWER_LENGTH:
            pairs.append((question, answer))
    return pairs


def run(out: Path, jobs: list[FileJob], seed: int, workers: int) -> None:
    """Sample every job's chunks with ``workers`` processes and write the files."""
    catalog.samplers()  # load before forking
    tasks: list[Task] = [
        (j.directory, j.module, i, n, seed) for j in jobs for i, n in enumerate(chunk_sizes(j.count))
    ]
    results = _results(tasks, workers)
    for job in jobs:
        write_examples(out, job, seed, [p for _ in chunk_sizes(job.count) for p in next(results)])


def _results(tasks: list[Task], workers: int) -> Iterator[list[tuple[str, str]]]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(sample_chunk, tasks)
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(min(workers, len(tasks))) as pool:
        yield from pool.imap(sample_chunk, tasks)


def main() -> None:
    spec = json.load(sys.stdin)
    jobs = [FileJob(**job) for job in spec["jobs"]]
    run(Path(spec["out"]), jobs, spec["seed"], spec["workers"])


if __name__ == "__main__":
    main()
