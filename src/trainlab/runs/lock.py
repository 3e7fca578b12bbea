"""One trainer per run directory: an exclusive advisory lock on `<run>/.lock`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from trainlab.errors import RunDirError


class RunLock:
    """Held while a process trains in a run directory; released on exit or crash."""

    def __init__(self, run_path: Path) -> None:
        self.file = Path(run_path) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirError(
                f"run directory {self.file.parent} is locked by another process",
                "wait for it to finish or stop it first",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
            self.file.unlink(missing_ok=True)

    def check_free(self) -> None:
        """Raise if another process holds the lock."""
        self.acquire().release()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
