"""The `trainlab` command: parse, call the API, print. UserError → one line, exit 2."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from trainlab.errors import UserError

if TYPE_CHECKING:
    from trainlab.config import Config


def _lazy_group(module: str) -> type[TyperGroup]:
    """A command group whose commands (the typer app `module.app`) are imported when the group is used."""

    class LazyGroup(TyperGroup):
        def _real(self) -> TyperGroup:
            return typer.main.get_command(importlib.import_module(module).app)  # type: ignore[return-value]

        def list_commands(self, ctx):  # type: ignore[no-untyped-def]
            return self._real().list_commands(ctx)

        def get_command(self, ctx, name):  # type: ignore[no-untyped-def]
            return self._real().get_command(ctx, name)

    return LazyGroup


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train, evaluate, diagnose and compare deep-learning experiments.")
app.add_typer(typer.Typer(no_args_is_help=True), name="data", cls=_lazy_group("trainlab.data.cli"),
              help="Generate or clean datasets (`trainlab data math --out DIR`, `trainlab data images SRC --out DIR`).")
app.add_typer(typer.Typer(no_args_is_help=True), name="scratch", cls=_lazy_group("trainlab.scratch.cli"),
              help="The from-scratch NumPy engine (`trainlab scratch run`).")
# Piped output (a log, a file) is not cut to 80 columns: wide tables such as an ensemble's keep their figures.
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)

Args = Annotated[list[str] | None, typer.Argument(help="[CONFIG.yaml] then key=value overrides")]


def _split_args(args: list[str] | None) -> tuple[Path | None, list[str]]:
    """A leading argument without '=' is the config file; the rest are overrides."""
    args = list(args or [])
    if args and "=" not in args[0]:
        return Path(args[0]), args[1:]
    return None, args


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return "" if v is None else str(v)


@app.command()
def run(
    args: Args = None,
    name: Annotated[str | None, typer.Option(help="run directory name (default: data-model-time)")] = None,
    out: Annotated[Path, typer.Option(help="parent directory of run directories")] = Path("runs"),
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    seeds: Annotated[int | None, typer.Option(min=1, help="run seeds 0..N-1 (same as train.seeds=[0,…,N-1])")] = None,
) -> None:
    """Train a model: `trainlab run CONFIG.yaml key=value ...` (both optional)."""
    from trainlab import api
    from trainlab.config import load_config

    path, overrides = _split_args(args)
    cfg = load_config(path, [*overrides, *([f"train.seeds={list(range(seeds))}"] if seeds else [])])
    if cfg.train.seeds:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise UserError("train.seeds runs several runs, one after another; under torchrun each launch trains one",
                            "launch torchrun once per seed (train.seed=…)")
        _report_seeds(cfg, name, out, overwrite)
        return
    result = api.run(cfg, name=name, out=out, overwrite=overwrite, console=console)
    _report(result)


def _report_seeds(cfg: Config, name: str | None, out: Path, overwrite: bool) -> None:
    from trainlab.studies import run_seeds
    from trainlab.studies.aggregate import fmt

    result = run_seeds(cfg, cfg.train.seeds or [], name=name, out=out, overwrite=overwrite, console=console)
    for r in result.runs:
        console.print(f"run directory: {r.run_dir}  status: {r.status}")
    console.print(f"aggregate: {result.path}  test_acc: {fmt(result.metrics.get('test_acc'))}")
    _exit_for(result.status)


def _exit_for(status: str) -> None:
    """Exit 1 when a run failed, 130 when one was interrupted (early stopping counts as success)."""
    if status in ("failed", "interrupted"):
        raise typer.Exit(1 if status == "failed" else 130)


@app.command()
def study(
    name: Annotated[str, typer.Argument(help="the study, e.g. vgg-depth")],
    args: Annotated[list[str] | None, typer.Argument(help="key=value overrides applied to every variant")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="seeds 0..N-1 per variant")] = 1,
    out: Annotated[Path, typer.Option(help="parent directory of the study directory")] = Path("runs"),
    variants: Annotated[str | None, typer.Option(help="comma-separated subset of the variants")] = None,
) -> None:
    """Run a named study (variants × seeds) and write its comparison; finished runs are reused."""
    from trainlab.studies import STUDIES, run_study
    from trainlab.studies.aggregate import fmt
    from trainlab.studies.runner import COLUMNS, REFERENCE_HEAD, reference_cells

    chosen = [v.strip() for v in variants.split(",")] if variants else None
    result = run_study(STUDIES.get(name), list(range(seeds)), out, args or [], chosen, console)
    if cited := [cells for row in result.rows for cells in reference_cells(row)]:
        reference = Table(*REFERENCE_HEAD, title=f"{name}: against the published figures")
        for cells in cited:
            reference.add_row(*cells)
        console.print(reference)
    table = Table("variant", *(title for title, _, _ in COLUMNS), "doctor", title=name)
    for row in result.rows:
        table.add_row(row["variant"], *(fmt(row["stats"][k], spec) for _, k, spec in COLUMNS),
                      ", ".join(row["doctor"]) or "–")
    console.print(table)
    console.print(f"comparison: {result.path / 'summary.md'}")
    _exit_for(result.status)


@app.command()
def resume(run_dir: Annotated[Path, typer.Argument(help="run directory to continue")]) -> None:
    """Continue an interrupted or unfinished run from its last checkpoint."""
    from trainlab.runs import RunDir
    from trainlab.runs.checkpoint_file import check_container

    last = RunDir.open(run_dir).checkpoint("last")
    if last.exists():  # an empty or foreign file is refused before torch is imported
        check_container(last)
    from trainlab import api

    _report(api.resume(run_dir, console=console))


def _report(result: object) -> None:
    s = result.summary  # type: ignore[attr-defined]
    if result.rank == 0:  # type: ignore[attr-defined]  # under torchrun, rank 0 speaks for the run
        console.print(f"run directory: {result.run_dir}")  # type: ignore[attr-defined]
        key = "test_" + str(s.get("monitor", "val_acc")).partition("_")[2]  # the test value of the watched metric
        value = s.get(key)
        console.print(f"status: {s['status']}" + (f"  {key}: {value:.4f}" if isinstance(value, float) else ""))
    _exit_for(s["status"])


@app.command("eval")
def eval_(
    run_dirs: Annotated[list[Path], typer.Argument(help="one run directory, or several for an ensemble")],
    split: Annotated[str, typer.Option(help="the split scored: test, val, or another the task has")] = "test",
    checkpoint: Annotated[str, typer.Option(help="best or last")] = "best",
    predictions: Annotated[Path | None, typer.Option(help="write an id,label CSV here (classification)")] = None,
    beam: Annotated[int | None, typer.Option(min=1, help="beam width (seq2seq; default: task.decode.beam)")] = None,
    tta: Annotated[str | None, typer.Option(
        help="test-time augmentation, comma-separated views: flip, crop (classification of images)")] = None,
) -> None:
    """Score a run with its task's metrics; several runs = an ensemble.

    Classification: loss, accuracy, per-class precision/recall/F1 and the confusion matrix. seq2seq: exact
    match per module (greedy or --beam). char_lm: perplexity. An ensemble averages the probabilities of its
    members (seq2seq: of every next character). --tta flip,crop also scores the mean probabilities over the
    image, its mirror and its shifts by the run's crop padding (1 px when it had none), beside the plain figure."""
    from trainlab.evaluation import evaluate

    views = None if tta is None else [v.strip() for v in tta.split(",") if v.strip()]
    report = evaluate(run_dirs, split, checkpoint, beam=beam, predictions=predictions, tta=views)
    for line in report.lines:
        console.print(line, markup=False)
    for t in report.tables:
        table = Table(*t.columns, title=t.title)
        for row in t.rows:
            table.add_row(*row)
        console.print(table)


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="a char_lm or seq2seq run directory")],
    prompt: Annotated[str, typer.Option(help="text to continue (char_lm) or question to answer (seq2seq)")],
    length: Annotated[int, typer.Option(min=1, help="characters to generate (char_lm)")] = 200,
    temperature: Annotated[float, typer.Option(min=0, help="softmax temperature; 0 = most likely (char_lm)")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="seed of the sampling (default: random)")] = None,
    checkpoint: Annotated[str, typer.Option(help="best or last")] = "best",
    beam: Annotated[int | None, typer.Option(min=1, help="beam width (seq2seq; default: task.decode.beam)")] = None,
) -> None:
    """Continue a prompt with a character language model, or answer a question with a seq2seq run."""
    from trainlab.sample import sample as generate

    typer.echo(generate(run_dir, prompt, length, temperature, checkpoint, seed, beam))


@app.command("lr-find")
def lr_find(
    args: Args = None,
    start: Annotated[float, typer.Option(help="first learning rate of the ramp")] = 1e-7,
    end: Annotated[float, typer.Option(help="last learning rate of the ramp")] = 10.0,
    steps: Annotated[int, typer.Option(help="optimizer steps from --start to --end (exponential ramp)")] = 100,
    diverge: Annotated[float, typer.Option(help="stop once the smoothed loss exceeds this many times its best")] = 4.0,
    smooth: Annotated[float, typer.Option(help="factor of the loss's exponential moving average (0 = raw)")] = 0.9,
    out: Annotated[Path | None, typer.Option(help="a new folder for the results (default: runs/lr-find-…)")] = None,
) -> None:
    """Learning-rate range test (Smith): the rate grows exponentially, step by step, on the config's task and
    model; writes lr_find.png, lr_find.csv and lr_find.json and prints the suggested rate (steepest descent of the
    smoothed loss, or its minimum / 10 when that comes at the first steps). Writes no run directory."""
    from trainlab.config import load_config
    from trainlab.lr_find import lr_find as range_test

    path, overrides = _split_args(args)
    r = range_test(load_config(path, overrides), start, end, steps, out, diverge, smooth)
    stop = f"stopped at lr {r.lrs[-1]:.3g}: the loss diverged" if r.diverged else f"ramp ended at lr {r.lrs[-1]:.3g}"
    console.print(f"{len(r.lrs)} steps, {stop}; lowest smoothed loss {min(r.smoothed):.4g} at lr {r.min_lr:.3g}")
    console.print(f"suggested lr: {r.suggestion:.3g} ({r.method})")
    console.print(f"plot: {r.out / 'lr_find.png'}")


@app.command()
def compare(run_dirs: Annotated[list[Path], typer.Argument(help="run directories")]) -> None:
    """One table of the runs' differing config values and results."""
    from trainlab.runs.compare import compare_runs

    columns, rows = compare_runs(run_dirs)
    if len(rows) <= 6:  # few runs: one row per key reads best
        table = Table("", *[str(r[0]) for r in rows])
        for i, col in enumerate(columns[1:], start=1):
            table.add_row(col, *[_fmt(r[i]) for r in rows])
    else:
        table = Table(*[c.rsplit(".", 1)[-1] for c in columns])
        for row in rows:
            table.add_row(*[_fmt(v) for v in row])
    console.print(table)


@app.command()
def report(
    paths: Annotated[list[Path], typer.Argument(help="run directories and sweep directories (runs/ + results.csv)")],
    out: Annotated[Path, typer.Option(help="the HTML file written")] = Path("report.html"),
) -> None:
    """One self-contained HTML page (figures inlined): the comparison table, the config differences, the curves
    overlaid, each run's confusion matrix and diagnosis figures, each sweep's results and plots."""
    from trainlab.report.html import write_report

    console.print(f"report: {write_report(paths, out)}")


@app.command("config")
def config_(
    args: Args = None,
    options: Annotated[bool, typer.Option("--options", help="list every option with default and meaning")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="with --options: a Markdown table")] = False,
) -> None:
    """Print the fully resolved, validated config (YAML)."""
    import yaml

    from trainlab.config import config_to_dict, describe_options, load_config
    from trainlab.config.describe import options_markdown

    if options and markdown:
        typer.echo(options_markdown(), nl=False)
        return
    if options:
        table = Table("key", "default", "description")
        for key, default, desc in describe_options():
            table.add_row(key, default, desc)
        console.print(table)
        return
    path, overrides = _split_args(args)
    typer.echo(yaml.safe_dump(config_to_dict(load_config(path, overrides)), sort_keys=False), nl=False)


def _interrupt_on_sigterm() -> None:
    """SIGTERM (e.g. a scheduler's preemption) stops training like Ctrl-C: checkpoint kept, resumable."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning (read when torch loads, so before any command runs).
    # On a CPU shared with other jobs spinning made epochs ten times slower; on an idle one sleeping costs
    # ~15% (docs/benchmarks.md). OMP_WAIT_POLICY=ACTIVE in the environment restores spinning.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _interrupt_on_sigterm()
    try:
        code = app(standalone_mode=False)  # click returns a typer.Exit's code here instead of raising it
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except (typer.Exit, SystemExit) as e:
        sys.exit(getattr(e, "exit_code", getattr(e, "code", 0)))
    except typer.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as e:  # usage errors of the (vendored) click carry their own message
        e.show()  # type: ignore[attr-defined]
        sys.exit(getattr(e, "exit_code", 2))


if __name__ == "__main__":
    main()
