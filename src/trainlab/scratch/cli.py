"""``trainlab scratch``: run the NumPy engine from the command line.

Mounted by the main CLI as a sub-app; also runnable as ``python -m trainlab.scratch.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trainlab.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The from-scratch NumPy engine (no torch).",
)


@app.callback()
def scratch() -> None:
    """The from-scratch NumPy engine (no torch)."""


@app.command()
def run(
    args: Annotated[list[str] | None, typer.Argument(help="[CONFIG.yaml] then key=value overrides")] = None,
    name: Annotated[str | None, typer.Option(help="run directory name (default: data-model-scratch-time)")] = None,
    out: Annotated[Path, typer.Option(help="parent directory of run directories")] = Path("runs"),
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Train a scratch model from an optional CONFIG.yaml and key=value overrides."""
    from trainlab.scratch.config import load_config

    items = list(args or [])
    path = Path(items.pop(0)) if items and "=" not in items[0] else None
    try:
        cfg = load_config(path, items)
        from trainlab.scratch.runner import run_experiment  # heavy imports only once the config is valid

        run_dir, summary = run_experiment(cfg, name=name, out=out, overwrite=overwrite)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    acc = summary.get("test_acc")
    typer.echo(f"run directory: {run_dir}")
    typer.echo(f"status: {summary['status']}" + (f"  test_acc: {acc:.4f}" if acc is not None else ""))
    if summary["status"] == "interrupted":
        raise typer.Exit(130)


if __name__ == "__main__":
    app()
