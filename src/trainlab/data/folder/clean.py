"""`trainlab data images SRC --out DST`: decode every image of SRC/<class>/… once into a uint8 array cache.

Steps: list the files (hidden ones skipped) → decode them in a process pool, each worker writing its
pixels straight into a scratch memory-mapped array → stratified split → one x/y array pair per split,
the index CSVs, rejected.csv and stats.json → dataset.json last. SRC is only read. Running it again
on an unchanged SRC with the same options does nothing; with --force it writes the same bytes again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

from trainlab.data.folder.dataset import FORMAT, MARKER, VERSION, read_manifest, x_file, y_file
from trainlab.data.folder.decode import CleanOptions, Decoded, Rejected, decode
from trainlab.data.folder.split import SPLITS, stratified_split
from trainlab.errors import UserError

SCRATCH = ".pixels.npy"  # every candidate's pixels, by file index; removed once the splits are written
CHUNK = 256  # rows copied at a time from the scratch array into a split's array
Progress = Callable[[int], Callable[[], None]]  # progress(total) → advance(), called once per file


@dataclass(frozen=True)
class SourceFile:
    rel: str  # path relative to SRC, '/'-separated
    cls: str | None  # the top-level folder; None for a file directly in SRC


@dataclass
class CleanResult:
    """What `clean` did: the stats written to stats.json, and whether the cache was already up to date."""

    out: Path
    stats: dict[str, Any]
    up_to_date: bool = False
    seconds: float = 0.0
    workers: int = 1
    files: int = 0

    @property
    def rate(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


@dataclass
class _Outcome:
    kept: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # file index → (width, height, mode)
    rejected: dict[int, Rejected] = field(default_factory=dict)


def scan(src: Path) -> tuple[list[str], list[SourceFile]]:
    """Class folders (sorted) and every non-hidden file below SRC, sorted by relative path."""
    classes = sorted(d.name for d in src.iterdir() if d.is_dir() and not d.name.startswith("."))
    files = [SourceFile(p.name, None) for p in src.iterdir() if p.is_file() and not p.name.startswith(".")]
    for c in classes:
        for root, dirs, names in os.walk(src / c):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            rel = Path(root).relative_to(src).as_posix()
            files += [SourceFile(f"{rel}/{n}", c) for n in names if not n.startswith(".")]
    return classes, sorted(files, key=lambda f: f.rel)


def fingerprint(src: Path, files: list[SourceFile], opts: CleanOptions, split: tuple[float, ...], seed: int) -> str:
    """Hash of the file list (path, size, mtime) and the options: equal → the cache is up to date."""
    h = hashlib.sha256(json.dumps([asdict(opts), split, seed]).encode())
    for f in files:
        st = (src / f.rel).stat()
        h.update(f"{f.rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def check_paths(src: Path, out: Path) -> None:
    """SRC a folder; DST outside SRC, and either new, empty, or a cleaned folder (never someone's files)."""
    if not src.is_dir():
        raise UserError(f"{src} is not a folder", "give the folder that holds one sub-folder per class")
    s, o = src.resolve(), out.resolve()
    if o == s or o.is_relative_to(s):
        raise UserError(f"--out {out} is inside the source folder {src}", "write the cleaned copy elsewhere: "
                        "SRC is never written to")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and read_manifest(out) is None)):
        raise UserError(f"--out {out} exists and is not a cleaned image folder",
                        "give a new or empty folder (an earlier output of `trainlab data images` is rewritten)")


def clean(src: Path, out: Path, opts: CleanOptions, split: tuple[float, float, float], seed: int = 0,
          workers: int | None = None, force: bool = False,
          progress: Progress | None = None) -> CleanResult:
    """Clean SRC into DST (see the module docstring); `progress(total)` returns a function called per file."""
    src, out = Path(src), Path(out)
    check_paths(src, out)
    classes, files = scan(src)
    if not classes:
        raise UserError(f"{src} has no class folders", "arrange the images as SRC/<class>/<files>")
    key = fingerprint(src, files, opts, split, seed)
    manifest = read_manifest(out) if out.is_dir() else None
    if manifest and manifest.get("complete") and manifest.get("fingerprint") == key and not force:
        stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
        return CleanResult(out, stats, up_to_date=True, files=len(files))
    out.mkdir(parents=True, exist_ok=True)
    # DST is marked as ours but incomplete first: an interrupted run can be rerun, and is never trained on
    _atomic_text(out / MARKER, json.dumps({"format": FORMAT, "version": VERSION, "complete": False}) + "\n")
    workers = max(1, workers or len(os.sched_getaffinity(0)))
    start = time.perf_counter()
    try:
        outcome = _decode_all(src, out, files, opts, workers, progress)
        stats = _write(src, out, classes, files, outcome, split, seed)
    finally:
        (out / SCRATCH).unlink(missing_ok=True)
    _atomic_text(out / MARKER, json.dumps({
        "format": FORMAT, "version": VERSION, "complete": True, "source": str(src.resolve()), "fingerprint": key,
        "options": asdict(opts) | {"split": list(split), "seed": seed}, "classes": stats["classes_kept"],
        "image_shape": [3, opts.size, opts.size], "splits": stats["splits"],
    }, indent=2, ensure_ascii=False) + "\n")
    return CleanResult(out, stats, seconds=time.perf_counter() - start, workers=workers, files=len(files))


# ---------------------------------------------------------------------------------------- decoding (pool)
_WORKER: dict[str, Any] = {}


def _init_worker(scratch: str, opts: CleanOptions) -> None:
    """A worker leaves Ctrl-C to the parent and ends quietly on SIGTERM (handlers inherited through fork)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER.update(pixels=np.load(scratch, mmap_mode="r+"), opts=opts)


def _decode_one(job: tuple[int, str]) -> tuple[int, Rejected | tuple[int, int, str]]:
    """Decode file `job` and write its pixels at its index in the shared scratch array (no pickled pixels)."""
    i, path = job
    result = decode(Path(path), _WORKER["opts"])
    if isinstance(result, Decoded):
        _WORKER["pixels"][i] = result.pixels
        return i, (result.width, result.height, result.mode)
    return i, result


def _decode_all(src: Path, out: Path, files: list[SourceFile], opts: CleanOptions, workers: int,
                progress: Progress | None) -> _Outcome:
    scratch = out / SCRATCH
    np.lib.format.open_memmap(scratch, mode="w+", dtype=np.uint8, shape=(len(files), 3, opts.size, opts.size))
    outcome = _Outcome()
    jobs = [(i, str(src / f.rel)) for i, f in enumerate(files) if f.cls is not None]
    outcome.rejected = {i: Rejected("no_class", "not inside a class folder")
                        for i, f in enumerate(files) if f.cls is None}
    advance = progress(len(files)) if progress else lambda: None
    for _ in outcome.rejected:
        advance()
    if workers == 1:
        _WORKER.update(pixels=np.load(scratch, mmap_mode="r+"), opts=opts)
        _collect(map(_decode_one, jobs), outcome, advance)
    else:
        with Pool(workers, _init_worker, (str(scratch), opts)) as pool:
            _collect(pool.imap_unordered(_decode_one, jobs, chunksize=8), outcome, advance)
            pool.close()
            pool.join()
    _WORKER.clear()
    return outcome


def _collect(results: Iterable[tuple[int, Rejected | tuple[int, int, str]]], outcome: _Outcome,
             advance: Callable[[], None]) -> None:
    for i, r in results:
        if isinstance(r, Rejected):
            outcome.rejected[i] = r
        else:
            outcome.kept[i] = r
        advance()


# ------------------------------------------------------------------------------------------------ writing
def _write(src: Path, out: Path, classes: list[str], files: list[SourceFile], outcome: _Outcome,
           split: tuple[float, float, float], seed: int) -> dict[str, Any]:
    kept_idx = np.array(sorted(outcome.kept), np.int64)
    found = {c: sum(f.cls == c for f in files) for c in classes}
    kept_classes = [c for c in classes if any(files[i].cls == c for i in kept_idx)]
    label_of = {c: k for k, c in enumerate(kept_classes)}
    labels = np.array([label_of[files[i].cls] for i in kept_idx], np.int64)  # type: ignore[index]
    _write_rejected(out, files, outcome)
    if not len(kept_idx):
        raise UserError(f"no image of {src} could be read", f"see why in {out / 'rejected.csv'}")
    rows, too_small = stratified_split(labels, split, seed)
    scratch = np.load(out / SCRATCH, mmap_mode="r")
    for name in SPLITS:
        take = kept_idx[rows[name]]
        _write_split(out, name, scratch, take, labels[rows[name]])
        _write_index(out / f"{name}.csv", take, labels[rows[name]], kept_classes, files)
    del scratch
    stats = _stats(classes, kept_classes, found, files, outcome, labels, rows, too_small)
    _atomic_text(out / "stats.json", json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    return stats


def _write_split(out: Path, name: str, scratch: np.ndarray, take: np.ndarray, labels: np.ndarray) -> None:
    tmp = x_file(out, name).with_suffix(".tmp")
    x = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(take), *scratch.shape[1:]))
    for a in range(0, len(take), CHUNK):
        x[a:a + CHUNK] = scratch[take[a:a + CHUNK]]
    x.flush()
    del x
    os.replace(tmp, x_file(out, name))
    buf = io.BytesIO()
    np.save(buf, labels)
    _atomic_bytes(y_file(out, name), buf.getvalue())


def _write_index(path: Path, take: np.ndarray, labels: np.ndarray, classes: list[str],
                 files: list[SourceFile]) -> None:
    """row,label,class,file: which source file each row of the split's arrays came from."""
    _atomic_csv(path, ["row", "label", "class", "file"],
                [[r, int(y), classes[y], files[i].rel] for r, (i, y) in enumerate(zip(take, labels, strict=True))])


def _write_rejected(out: Path, files: list[SourceFile], outcome: _Outcome) -> None:
    _atomic_csv(out / "rejected.csv", ["file", "kind", "reason"],
                [[files[i].rel, r.kind, r.reason] for i, r in sorted(outcome.rejected.items())])


def _stats(classes: list[str], kept_classes: list[str], found: dict[str, int], files: list[SourceFile],
           outcome: _Outcome, labels: np.ndarray, rows: dict[str, np.ndarray], too_small: list[int]
           ) -> dict[str, Any]:
    """Per class: files found, kept, rejected, per split, source sizes and modes; overall: reasons, splits."""
    per_class: dict[str, dict[str, Any]] = {}
    for c in classes:
        kept = [outcome.kept[i] for i in sorted(outcome.kept) if files[i].cls == c]
        entry: dict[str, Any] = {"files": found[c], "kept": len(kept), "rejected": found[c] - len(kept)}
        if c in kept_classes:
            k = kept_classes.index(c)
            entry |= {s: int((labels[rows[s]] == k).sum()) for s in SPLITS}
            w, h = np.array([s[0] for s in kept]), np.array([s[1] for s in kept])
            entry["source_size_median"] = [int(np.median(w)), int(np.median(h))]
            entry["source_modes"] = dict(sorted({m: sum(s[2] == m for s in kept) for _, _, m in kept}.items()))
        entry["note"] = ("left out: no readable image" if c not in kept_classes else
                         "too small to split: all in train" if kept_classes.index(c) in too_small else "")
        per_class[c] = entry
    reasons: dict[str, int] = {}
    for r in outcome.rejected.values():
        reasons[r.kind] = reasons.get(r.kind, 0) + 1
    return {"files": len(files), "kept": len(outcome.kept), "rejected": len(outcome.rejected),
            "rejected_by_kind": dict(sorted(reasons.items())), "splits": {s: len(rows[s]) for s in SPLITS},
            "classes_kept": kept_classes, "classes": per_class}


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_text(path: Path, text: str) -> None:
    _atomic_bytes(path, text.encode("utf-8"))


def _atomic_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([header, *rows])
    _atomic_text(path, buf.getvalue())
