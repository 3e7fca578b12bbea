"""Files of the official layout: what to write, whether a finished copy exists, writing."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".trainlab-math.json"  # {relative path: seed} of the files generated here


@dataclass(frozen=True)
class FileJob:
    """One text file: ``<directory>/<module>.txt`` with ``count`` examples."""

    directory: str  # train-easy|train-medium|train-hard|interpolate|extrapolate
    module: str
    count: int

    @property
    def relpath(self) -> str:
        return f"{self.directory}/{self.module}.txt"


def is_finished(out: Path, job: FileJob, seed: int) -> bool:
    """The file holds ``job.count`` examples and was not generated from another seed.

    Files without a manifest entry (e.g. the released dataset) are judged by count only.
    """
    path = out / job.relpath
    if read_manifest(out).get(job.relpath, seed) != seed or not path.is_file():
        return False
    with path.open("rb") as f:
        newlines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
    return newlines == 2 * job.count


def write_examples(out: Path, job: FileJob, seed: int, pairs: list[tuple[str, str]]) -> None:
    """Write question and answer on alternating lines; the manifest marks the file pending
    (``null``) until it is complete, so an interrupted write is never reused."""
    path = out / job.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    _record(out, job.relpath, None)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{q}\n{a}\n" for q, a in pairs), encoding="utf-8")
    os.replace(tmp, path)
    _record(out, job.relpath, seed)


def read_manifest(out: Path) -> dict[str, int | None]:
    path = out / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _record(out: Path, relpath: str, seed: int | None) -> None:
    manifest = read_manifest(out)
    manifest[relpath] = seed
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
