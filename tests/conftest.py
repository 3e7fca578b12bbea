"""Shared fixtures: drive the real CLI in a subprocess."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from clitools import run_cli


@pytest.fixture(scope="session", autouse=True)
def ctrl_c_raises() -> None:
    """Ctrl-C raises KeyboardInterrupt here and in the CLI subprocesses, even when the suite was started in the
    background (`cmd &`, nohup), which starts it with SIGINT ignored; the Ctrl-C tests need the interactive default."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def cli(tmp_path: Path):
    def call(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path, **kw)  # type: ignore[arg-type]

    return call
