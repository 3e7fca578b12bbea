"""Shared fixtures: drive the real CLI in a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clitools import run_cli


@pytest.fixture
def cli(tmp_path: Path):
    def call(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path, **kw)  # type: ignore[arg-type]

    return call
