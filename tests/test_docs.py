"""docs/cli.md stays true: every command and every config option is documented (`make docs` regenerates it)."""

from __future__ import annotations

from pathlib import Path

import typer

from trainlab.cli import app
from trainlab.config.describe import options_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _commands(t: typer.Typer, prefix: str) -> list[str]:
    names = [f"{prefix} {c.name or c.callback.__name__}".replace("_", "-") for c in t.registered_commands]
    for group in t.registered_groups:
        names += _commands(group.typer_instance, f"{prefix} {group.name}")
    return names


def test_every_command_is_documented():
    text = DOC.read_text()
    missing = [name for name in _commands(app, "trainlab") if f"## `{name}`" not in text]
    assert not missing, f"regenerate docs/cli.md with `make docs`: {missing}"


def test_every_config_option_is_documented():
    text = DOC.read_text()
    missing = [line for line in options_markdown().splitlines() if line not in text]
    assert not missing, f"regenerate docs/cli.md with `make docs`: {missing[:5]}"
