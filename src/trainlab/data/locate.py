"""Find dataset files: data.root, then $TRAINLAB_DATA, then system dirs; else download (checksummed)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trainlab.errors import DataError

SYSTEM_DIRS = (Path("/usr/share/datasets"),)
CACHE_DIR = Path.home() / ".cache" / "trainlab" / "data"


@dataclass(frozen=True)
class Remote:
    """A file to fetch: where from and its MD5."""

    url: str
    md5: str


def candidate_dirs(name: str, root: Path | None) -> list[Path]:
    dirs: list[Path] = []
    if root is not None:
        dirs += [Path(root), Path(root) / name]
    if env := os.environ.get("TRAINLAB_DATA"):
        dirs += [Path(env) / name, Path(env)]
    dirs += [d / name for d in SYSTEM_DIRS] + [CACHE_DIR / name]
    return dirs


def find_dir(name: str, root: Path | None, has_files: Sequence[Sequence[str]]) -> Path | None:
    """First candidate dir holding one alternative of each required file."""
    for d in candidate_dirs(name, root):
        if all(any((d / alt).is_file() for alt in alts) for alts in has_files):
            return d
    return None


def download(name: str, root: Path | None, remotes: Sequence[Remote]) -> Path:
    """Fetch `remotes` into data.root/<name> (or the cache), verifying MD5; atomic per file."""
    target = (Path(root) / name) if root is not None else CACHE_DIR / name
    target.mkdir(parents=True, exist_ok=True)
    for remote in remotes:
        dest = target / remote.url.rsplit("/", 1)[-1]
        if dest.is_file() and md5sum(dest) == remote.md5:
            continue
        fd, tmp = tempfile.mkstemp(dir=target, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(remote.url, timeout=30) as resp:
                shutil.copyfileobj(resp, out)
            if (got := md5sum(Path(tmp))) != remote.md5:
                raise DataError(
                    f"checksum mismatch for {remote.url} (md5 {got}, expected {remote.md5})",
                    "the download is corrupt or altered; retry or fetch the file by hand",
                )
            os.replace(tmp, dest)
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise DataError(
                f"cannot download {remote.url} ({getattr(e, 'reason', e)})",
                f"no network? put the {name} files in {target} or point data.root at them",
            ) from None
        finally:
            Path(tmp).unlink(missing_ok=True)
    return target


def locate(
    name: str, root: Path | None, allow_download: bool, has_files: Sequence[Sequence[str]],
    remotes: Sequence[Remote],
) -> Path:
    """Directory holding the dataset's files, downloading them if allowed and absent."""
    if found := find_dir(name, root, has_files):
        return found
    wanted = ", ".join(alts[0] for alts in has_files)
    if not allow_download:
        raise DataError(
            f"{name} files not found ({wanted})",
            f"put them in {candidate_dirs(name, root)[0]}, set $TRAINLAB_DATA, or allow data.download",
        )
    download(name, root, remotes)
    if found := find_dir(name, root, has_files):
        return found
    raise DataError(f"{name} download did not yield {wanted}", "check the download directory")


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
