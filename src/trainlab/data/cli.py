"""`trainlab data`: generate (`math`) or clean (`images`) datasets. Imported only when the group is used."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from trainlab.data.math.cli import math

app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command("math")(math)


@app.callback()
def _group() -> None:
    """Generate or clean datasets."""


@app.command("images")
def images(
    src: Annotated[Path, typer.Argument(help="folder of SRC/<class>/<image files> (sub-folders allowed)")],
    out: Annotated[Path, typer.Option("--out", help="output folder (the cleaned arrays; never inside SRC)")],
    size: Annotated[int, typer.Option(min=8, help="side of the square output images, pixels")] = 256,
    resize: Annotated[str, typer.Option(help="shorter: shorter side to --size then centre crop; fixed: stretch")
                      ] = "shorter",
    grey: Annotated[str, typer.Option(help="greyscale and 16-bit files: convert (to RGB) or skip (reject)")
                    ] = "convert",
    split: Annotated[str, typer.Option(help="train,val,test shares, stratified by class")] = "0.8,0.1,0.1",
    seed: Annotated[int, typer.Option(help="seed of the split")] = 0,
    max_pixels: Annotated[int | None, typer.Option(
        min=1, help="refuse images with more pixels (decompression bombs; default: Pillow's limit)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="decoding processes (default: usable CPUs)")] = None,
    force: Annotated[bool, typer.Option(help="rewrite even when the output is up to date")] = False,
) -> None:
    """Clean an image folder into a training-ready cache: unreadable files listed in rejected.csv, modes
    converted, resized (LANCZOS), stratified split, decoded once into uint8 arrays for `data.name=folder`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from trainlab.data.folder.clean import clean
    from trainlab.data.folder.decode import CleanOptions
    from trainlab.data.folder.report import stats_tables
    from trainlab.data.folder.split import parse_fractions

    console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)
    _choice("--resize", resize, ("shorter", "fixed"))
    _choice("--grey", grey, ("convert", "skip"))
    opts = CleanOptions(size=size, resize=resize, grey=grey,  # type: ignore[arg-type]
                        **({"max_pixels": max_pixels} if max_pixels else {}))
    bar = Progress(TextColumn("decoding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=console, transient=True, disable=not console.is_terminal)

    def progress(total: int):  # type: ignore[no-untyped-def]
        task = bar.add_task("decode", total=total)
        return lambda: bar.advance(task)

    with bar:
        result = clean(src, out, opts, parse_fractions(split), seed, workers, force, progress)
    for table in stats_tables(result.stats):
        console.print(table)
    if result.up_to_date:
        console.print(f"up to date: {out} (--force rewrites it)")
    else:
        console.print(f"cleaned {result.files} files in {result.seconds:.1f} s ({result.rate:.0f} files/s, "
                      f"{result.workers} workers) → {out}")
    console.print(f"train on it: trainlab run data.name=folder data.path={out}")


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    from trainlab.errors import UserError

    if value not in allowed:
        raise UserError(f"{option} {value!r} is not one of {', '.join(allowed)}", f"use {option} {allowed[0]}")
