"""Drive the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`python -m trainlab ARGS` with quiet, single-threaded, reproducible settings."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "trainlab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
