"""The run directory: the contract every command reads and writes.

    <run>/config.yaml     fully resolved config
    <run>/metrics.csv     one row per epoch
    <run>/summary.json    status, best epoch, test metrics, params, wall time, versions
    <run>/train.log       the human log
    <run>/tb/             TensorBoard events
    <run>/checkpoints/    last.pt, best.pt
    <run>/plots/          curves.png and diagnosis figures

Pure Python (no torch), so the NumPy engine writes the same layout.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from trainlab.errors import RunDirError


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def log(self) -> Path:
        return self.path / "train.log"

    @property
    def tb(self) -> Path:
        return self.path / "tb"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def plots(self) -> Path:
        return self.path / "plots"

    def checkpoint(self, which: str) -> Path:
        return self.checkpoints / f"{which}.pt"

    @classmethod
    def create(cls, path: Path, overwrite: bool = False) -> RunDir:
        """Make a fresh run directory; refuse an existing one unless `overwrite`."""
        path = Path(path).resolve()
        if path.exists() and any(path.iterdir()):
            if not overwrite:
                raise RunDirError(
                    f"run directory {path} already exists",
                    "pick another --name, pass --overwrite, or `trainlab resume` it",
                )
            if (path / ".lock").exists():
                from trainlab.runs.lock import RunLock

                RunLock(path).check_free()
            shutil.rmtree(path)
        for sub in ("", "checkpoints", "plots", "tb"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """An existing run directory (must hold config.yaml)."""
        path = Path(path).resolve()
        if not (path / "config.yaml").is_file():
            raise RunDirError(
                f"{path} is not a run directory (no config.yaml)",
                "pass a directory written by `trainlab run`",
            )
        return cls(path)
