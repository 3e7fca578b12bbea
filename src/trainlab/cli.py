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
    from trainlab.launch import Job, Slurm


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


# The launcher options of `run` and `sweep` (trainlab.launch): write a job directory, optionally submit it.
Launcher = Annotated[str | None, typer.Option(help="bash or slurm: write a job directory (config, train.sh, "
                                                   "sbatch.sh) instead of training here")]
Submit = Annotated[bool, typer.Option(help="with --launcher: start the job (bash: here; slurm: through submitit, "
                                           "its local executor where there is no Slurm)")]
JobDir = Annotated[Path | None, typer.Option(help="with --launcher: the job directory (default: jobs/NAME)")]
Partition = Annotated[str | None, typer.Option(help="Slurm partition")]
Gpus = Annotated[int, typer.Option(min=0, help="GPUs of the Slurm job")]
Time = Annotated[str, typer.Option(help="Slurm time limit (e.g. 2:00:00, 1-00:00:00)")]
Cpus = Annotated[int, typer.Option(min=1, help="CPUs per Slurm task")]
Mem = Annotated[int | None, typer.Option(min=1, help="memory of the Slurm job in GB")]


def _slurm(launcher: str | None, partition: str | None, gpus: int, time: str, cpus: int, mem: int | None) -> Slurm:
    from trainlab.launch import Slurm

    if launcher not in ("bash", "slurm"):
        problem = "--submit needs a launcher" if launcher is None else f"--launcher {launcher} is not a launcher"
        raise UserError(problem, "use --launcher bash or --launcher slurm")
    slurm = Slurm(partition, gpus, time, cpus, mem)
    slurm.minutes()  # a bad time is refused before the job directory is written
    return slurm


def _launch(job: Job, launcher: str, submit: bool) -> None:
    from trainlab.launch import submit as start

    console.print(f"job directory: {job.dir}\n  {job.train_sh.name}: bash {job.train_sh}\n"
                  f"  {job.sbatch_sh.name}: sbatch {job.sbatch_sh}")
    if submit:
        done = start(job, launcher)
        state = "queued" if done.returncode is None else f"exit code {done.returncode}"
        console.print(f"submitted ({done.launcher}{', job ' + done.job_id if done.job_id else ''}): {state}")
        if done.returncode:
            raise typer.Exit(done.returncode)


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
    launcher: Launcher = None,
    submit: Submit = False,
    job_dir: JobDir = None,
    slurm_partition: Partition = None,
    slurm_gpus: Gpus = 0,
    slurm_time: Time = "1:00:00",
    slurm_cpus: Cpus = 4,
    slurm_mem: Mem = None,
) -> None:
    """Train a model: `trainlab run CONFIG.yaml key=value ...` (both optional).

    With --launcher bash|slurm it writes a job directory (the resolved config, train.sh, sbatch.sh) instead, and
    with --submit starts it."""
    from trainlab import api
    from trainlab.config import load_config

    path, overrides = _split_args(args)
    cfg = load_config(path, [*overrides, *([f"train.seeds={list(range(seeds))}"] if seeds else [])])
    if launcher is not None or submit:
        from trainlab.launch.jobs import run_job

        slurm = _slurm(launcher, slurm_partition, slurm_gpus, slurm_time, slurm_cpus, slurm_mem)
        if cfg.train.seeds:
            raise UserError("--launcher writes one run's job", "launch one job per seed (train.seed=K)")
        _launch(run_job(cfg, name or api.default_name(cfg), out, slurm, job_dir), str(launcher), submit)
        return
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
def sweep(
    spec: Annotated[Path | None, typer.Argument(help="the sweep spec (YAML; docs/sweeps.md)")] = None,
    jobs: Annotated[int, typer.Option(min=1, help="trials trained at once, each in its own process")] = 1,
    resume: Annotated[Path | None, typer.Option(help="continue the sweep in this directory")] = None,
    out: Annotated[Path | None, typer.Option(help="the sweep directory (default: sweeps/NAME)")] = None,
    launcher: Launcher = None,
    submit: Submit = False,
    job_dir: JobDir = None,
    slurm_partition: Partition = None,
    slurm_gpus: Gpus = 0,
    slurm_time: Time = "1:00:00",
    slurm_cpus: Cpus = 4,
    slurm_mem: Mem = None,
) -> None:
    """Search hyperparameters with Optuna (grid, random or TPE; optional pruning): one run per trial under the
    sweep directory, the study in its study.db, results.csv/.md sorted by the objective, best.yaml and plots.

    A stopped sweep continues with --resume DIR: finished trials are kept, the interrupted one is marked failed
    (`interrupted`) and its parameters are tried again."""
    if launcher is not None or submit:
        from trainlab.launch.jobs import sweep_job

        slurm = _slurm(launcher, slurm_partition, slurm_gpus, slurm_time, slurm_cpus, slurm_mem)
        if spec is None or resume is not None:
            raise UserError("--launcher writes a job for a new sweep", "pass SPEC.yaml (a job resumes on its own)")
        _launch(sweep_job(spec, out, jobs, slurm, job_dir), str(launcher), submit)
        return
    from trainlab.sweeps.runner import run_sweep

    result = run_sweep(spec, out=out, resume=resume, jobs=jobs, console=console)
    console.print(result.results.table(title=f"sweep {result.path.name}"))
    console.print(f"sweep directory: {result.path}")
    best = result.results.best
    if best is not None:
        console.print(f"best: trial {best['trial']}  config: {result.path / 'best.yaml'}")
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
    checkpoint: Annotated[str, typer.Option(help="best, last, or int8-static / int8-dynamic (written by "
                                                 "`trainlab quantize`)")] = "best",
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
def quantize(
    run_dir: Annotated[Path, typer.Argument(help="a finished run directory (array models: see docs/quantization.md)")],
    method: Annotated[str, typer.Option(help="static (int8 weights and activations, calibrated) or dynamic "
                                             "(int8 linear weights)")] = "static",
    calibration: Annotated[int, typer.Option(help="training examples that calibrate the activation ranges (static)"
                                             )] = 1024,
    out: Annotated[Path | None, typer.Option(help="the int8 checkpoint (default RUN/checkpoints/int8-METHOD.pt); "
                                                  "its table is written beside it (.md, .json)")] = None,
    checkpoint: Annotated[str, typer.Option(help="the fp32 weights quantized: best or last")] = "best",
    split: Annotated[str, typer.Option(help="the split both models are scored on")] = "test",
    batch_size: Annotated[int | None, typer.Option(min=1, help="examples per timed batch (default "
                                                              "train.batch_size)")] = None,
    repeats: Annotated[int, typer.Option(min=2, help="timed forward passes (after 5 warm-up ones)")] = 30,
) -> None:
    """Quantize a run to int8 (torch.ao, CPU) and compare it with fp32: accuracy, file size, latency, throughput.

    The int8 model is scored after reloading it from the file written (`trainlab eval RUN --checkpoint
    int8-static` reads it too)."""
    from trainlab.quantization import quantize as run_quantize

    report = run_quantize(run_dir, method, calibration, out, checkpoint, split, batch_size, repeats)
    columns, rows = report.table()
    table = Table(*columns, title=f"{report.run}: int8 ({report.method}) vs fp32, {report.split}")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(report.headline(), markup=False)
    console.print(f"int8 checkpoint: {report.path}  table: {report.path.with_suffix('.md')}", markup=False)


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


# ------------------------------------------------------------------ representations: probe, embed, cluster
Source = Annotated[list[str], typer.Argument(
    help="a run directory, or a config file then key=value overrides (its model at random init)")]
InitOpt = Annotated[str | None, typer.Option(
    "--init", help="trained (a run's weights) or random (the same model freshly initialised with the run's seed); "
    "default: trained for a run, random for a config")]
LayerOpt = Annotated[str, typer.Option(
    help="penultimate (the classifier's input; a contrastive run's encoder, an autoencoder's code), output, or a "
    "submodule's name")]
CheckpointOpt = Annotated[str, typer.Option(help="best or last")]


def _init(init: str | None) -> str | None:
    if init not in (None, "trained", "random"):
        raise UserError(f"unknown --init {init!r}", "use --init trained or --init random")
    return init


def _print_table(t: object) -> None:
    from rich.markup import escape

    table = Table(*t.columns, title=escape(t.title))  # type: ignore[attr-defined]
    for row in t.rows:  # type: ignore[attr-defined]
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)


@app.command()
def probe(
    source: Source,
    method: Annotated[str, typer.Option(help="linear, knn or both")] = "both",
    layer: LayerOpt = "penultimate",
    init: InitOpt = None,
    checkpoint: CheckpointOpt = "best",
    neighbors: Annotated[int, typer.Option(min=1, help="k of the k-NN probe")] = 20,
    c: Annotated[float, typer.Option("--c", min=0, help="inverse L2 strength of the logistic regression")] = 1.0,
    max_train: Annotated[int | None, typer.Option(min=2, help="fit on a stratified subset of N train examples")
                         ] = None,
) -> None:
    """Linear-probe and k-NN accuracy of a model's frozen features, on val and test.

    The linear probe is scikit-learn's LogisticRegression on standardised train features (convex, solved by
    L-BFGS: no learning rate or epochs to tune); k-NN votes among the nearest train examples by cosine
    similarity. `trainlab probe CONFIG.yaml` (or `--init random`) probes the untrained model: the baseline."""
    from trainlab.representations import probe as run_probe

    report = run_probe(source[0], method, layer, checkpoint, _init(init), neighbors, c, max_train,  # type: ignore[arg-type]
                       source[1:])
    console.print(report.describe(), markup=False)
    _print_table(report.table())
    for note in report.notes:
        console.print(f"note: {note}", markup=False)


@app.command()
def embed(
    source: Source,
    split: Annotated[str, typer.Option(help="train, val or test")] = "test",
    layer: LayerOpt = "penultimate",
    out: Annotated[Path | None, typer.Option(help="directory (default: RUN/embeddings/<split>-<layer>)")] = None,
    init: InitOpt = None,
    checkpoint: CheckpointOpt = "best",
) -> None:
    """Write a split's features as embeddings.npy (N, D) and labels.npy (N,) (plus embeddings.json)."""
    from trainlab.representations import embed as run_embed

    result = run_embed(source[0], split, layer, out, checkpoint, _init(init), source[1:])  # type: ignore[arg-type]
    console.print(f"embeddings {result.shape[0]}x{result.shape[1]}: {result.embeddings}", markup=False)
    console.print(f"labels: {result.labels}", markup=False)


@app.command()
def cluster(
    source: Source,
    method: Annotated[list[str], typer.Option(
        help="kmeans, meanshift, dbscan, gmm or agglomerative; repeat or comma-separate for several")] = ["kmeans"],  # noqa: B006
    k: Annotated[int | None, typer.Option(min=1, help="clusters for kmeans, gmm, agglomerative (default: the "
                                          "number of classes)")] = None,
    split: Annotated[str, typer.Option(help="train, val or test")] = "test",
    layer: LayerOpt = "penultimate",
    samples: Annotated[int, typer.Option(min=10, help="cluster a stratified subset of at most N points")] = 2000,
    pca_dims: Annotated[int, typer.Option(min=0, help="PCA dimensions clustered (0 = the standardised features)")
                        ] = 50,
    bandwidth: Annotated[float | None, typer.Option(min=0, help="mean-shift bandwidth (default: estimated)")] = None,
    eps: Annotated[float | None, typer.Option(
        min=0, help="DBSCAN eps (default: 95th percentile of the distance to the min_samples-th neighbour)")] = None,
    min_samples: Annotated[int, typer.Option(min=1, help="DBSCAN min_samples")] = 5,
    projection: Annotated[str, typer.Option(help="2-D projection of the figure: pca or tsne")] = "pca",
    out: Annotated[Path | None, typer.Option(help="directory of clusters.png (default: the run's plots/)")] = None,
    init: InitOpt = None,
    checkpoint: CheckpointOpt = "best",
) -> None:
    """Cluster a split's features; ARI, NMI, silhouette and cluster count per method, and clusters.png."""
    from trainlab.representations import cluster as run_cluster

    methods = [m.strip() for entry in method for m in entry.split(",") if m.strip()]
    report = run_cluster(source[0], methods, k, split, layer, checkpoint, _init(init), samples,  # type: ignore[arg-type]
                         pca_dims, bandwidth, eps, min_samples, projection, out, source[1:])
    console.print(report.describe(), markup=False)
    _print_table(report.table())
    if report.plot is not None:
        console.print(f"figure: {report.plot}", markup=False)


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
