"""``trainlab data math``: generate DeepMind Mathematics files in the official layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainlab.data.math.catalog import DEFAULT_MODULES, DIFFICULTIES
from trainlab.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.callback()
def _group() -> None:
    """DeepMind Mathematics data for char-level seq2seq."""


@app.command("math")
def math(
    out: Annotated[Path, typer.Option("--out", help="Output directory (official layout).")],
    modules: Annotated[
        str, typer.Option("--modules", help="Comma-separated module names.")
    ] = ",".join(DEFAULT_MODULES),
    per_module: Annotated[
        int, typer.Option("--per-module", help="Train examples per module.")
    ] = 1000,
    difficulty: Annotated[
        str, typer.Option("--difficulty", help=f"{'|'.join(DIFFICULTIES)} (mixed: all three).")
    ] = "easy",
    seed: Annotated[int, typer.Option("--seed", help="Base seed; same seed, same files.")] = 0,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: CPUs).")
    ] = None,
    interpolate_per_module: Annotated[
        int | None,
        typer.Option(
            "--interpolate-per-module",
            help="Interpolate and extrapolate examples per module (default per-module/10; 0: none).",
        ),
    ] = None,
) -> None:
    """Generate train files plus interpolate/extrapolate test sets; reuse finished files."""
    from trainlab.data.math.generation import generate

    names = [m.strip() for m in modules.split(",") if m.strip()]
    try:
        result = generate(
            names, per_module, difficulty, out, seed, workers, interpolate_per_module
        )
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for f in result.files:
        state = "cached" if f.cached else "wrote"
        plural = "" if f.examples == 1 else "s"
        typer.echo(f"{state:6} {f.path.relative_to(out)}  ({f.examples} example{plural})")
    typer.echo(
        f"generated {result.generated} examples in {result.seconds:.1f} s "
        f"({result.rate:.0f} examples/s, {result.workers} workers) → {out}"
    )


if __name__ == "__main__":
    app()
