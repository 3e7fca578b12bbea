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


def main_in_process(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`trainlab ARGS` through cli.main in this process (the same entry point, without a torch start-up per
    call): (exit code, stdout, stderr)."""
    from trainlab import cli as cli_module

    monkeypatch.setattr(cli_module, "_interrupt_on_sigterm", lambda: None)
    monkeypatch.setattr(sys, "argv", ["trainlab", *args])
    capsys.readouterr()
    try:
        cli_module.main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
