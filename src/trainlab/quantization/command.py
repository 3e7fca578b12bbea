"""`trainlab quantize`: a finished run's weights → an int8 checkpoint, and fp32 vs int8 on one split.

The int8 model is scored from the file it was written to (reloaded through `load_quantized`, the path
`trainlab eval --checkpoint int8-METHOD` takes), not from memory; the fp32 model from the run's
checkpoint. Both run on the CPU (quantized kernels are CPU kernels) with the run's `train.threads`.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlab.errors import CheckpointError, UserError
from trainlab.evaluation import checkpoint_path, open_run
from trainlab.quantization.methods import METHODS, check_supported
from trainlab.runs import write_json
from trainlab.runs.checkpoint_file import check_container
from trainlab.runs.files import atomic_write_bytes

if TYPE_CHECKING:
    import torch
    from torch import nn

    from trainlab.config import Config
    from trainlab.engine.task import Task


@dataclass
class Variant:
    """One model's figures on the split: the task's metrics, file size and CPU latency of one batch."""

    name: str
    metrics: dict[str, float]
    size_bytes: int
    latency_ms: float
    latency_iqr_ms: float
    throughput: float


@dataclass
class QuantizeReport:
    """What `trainlab quantize` prints and writes beside the checkpoint (`path`): .md and .json."""

    run: str
    method: str
    engine: str
    path: Path
    split: str
    checkpoint: str
    calibration: int
    batch: int
    repeats: int
    threads: int
    layers: dict[str, int]
    fp32: Variant
    int8: Variant
    agreement: float | None  # share of examples whose decoded labels int8 and fp32 agree on
    machine: str = field(default_factory=lambda: f"{platform.machine()} {platform.processor() or ''}".strip())

    @property
    def smaller(self) -> float:
        return self.fp32.size_bytes / self.int8.size_bytes

    @property
    def speedup(self) -> float:
        return self.fp32.latency_ms / self.int8.latency_ms

    def headline(self) -> str:
        delta = {k: self.int8.metrics[k] - v for k, v in self.fp32.metrics.items() if k in self.int8.metrics}
        change = "  ".join(f"{k} {v:+.4f}" for k, v in delta.items())
        agree = f", agrees with fp32 on {self.agreement:.2%} of {self.split}" if self.agreement is not None else ""
        return (f"int8 ({self.method}, {self.engine}): {self.smaller:.2f}x smaller, {self.speedup:.2f}x faster per "
                f"batch of {self.batch} on {self.threads} threads{agree}; {change}")

    def table(self) -> tuple[list[str], list[list[str]]]:
        metrics = list(self.fp32.metrics)
        columns = ["model", *metrics, "size (KiB)", "latency (ms/batch)", "throughput (ex/s)"]
        rows = [[v.name, *(f"{v.metrics.get(k, float('nan')):.4f}" for k in metrics), f"{v.size_bytes / 1024:,.1f}",
                 f"{v.latency_ms:.2f} ± {v.latency_iqr_ms / 2:.2f}", f"{v.throughput:,.0f}"]
                for v in (self.fp32, self.int8)]
        return columns, rows

    def markdown(self) -> str:
        columns, rows = self.table()
        lines = [f"# {self.run}: int8 ({self.method}) vs fp32 on {self.split}", "",
                 f"| {' | '.join(columns)} |", f"|{'---|' * len(columns)}",
                 *(f"| {' | '.join(r)} |" for r in rows), "", self.headline(), "",
                 f"- weights: {self.checkpoint} checkpoint; quantized engine {self.engine}; calibration "
                 f"{self.calibration} training examples" if self.calibration else
                 f"- weights: {self.checkpoint} checkpoint; quantized engine {self.engine}; no calibration",
                 f"- int8 layers: {', '.join(f'{k} x{n}' for k, n in self.layers.items())}",
                 f"- latency: median of {self.repeats} timed passes after 5 warm-up ones, fp32 and int8 in turns "
                 f"(± half the interquartile range); batch of {self.batch}, {self.threads} threads, {self.machine}"]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return out | {"path": str(self.path), "smaller": self.smaller, "speedup": self.speedup}


def quantize(run_dir: Path | str, method: str = "static", calibration: int = 1024, out: Path | None = None,
             checkpoint: str = "best", split: str = "test", batch_size: int | None = None,
             repeats: int = 30) -> QuantizeReport:
    """Quantize `run_dir`'s `checkpoint` weights with `method` (static: calibrated on `calibration` training
    examples), write them to `out` (default RUN/checkpoints/int8-METHOD.pt) with a table beside it (.md,
    .json), and compare fp32 with the reloaded int8 model on `split` (latency: batches of `batch_size`,
    default train.batch_size)."""
    run, cfg = open_run(run_dir)
    check_supported(cfg.model.name)
    quantizer = METHODS.get(method)
    if checkpoint not in ("best", "last"):
        raise UserError(f"--checkpoint {checkpoint}: only fp32 weights are quantized", "use --checkpoint best or last")
    source = checkpoint_path(run, checkpoint)
    check_container(source)
    if quantizer.calibrates and calibration < 1:
        raise UserError(f"--calibration {calibration}: static quantization needs calibration examples",
                        "use --calibration 1024 (or more)")
    out = Path(out) if out is not None else run.checkpoint(f"int8-{method}")
    if out.suffix != ".pt":
        raise UserError(f"--out {out} is not a .pt file", "name the quantized checkpoint FILE.pt")
    if out.resolve() in {run.checkpoint(c).resolve() for c in ("best", "last")}:
        raise UserError(f"--out {out} is the run's own fp32 checkpoint", "write the int8 model to another file")

    import torch

    from trainlab.engine.checkpoint import load_weights, save_checkpoint
    from trainlab.quantization.measure import latencies, state_bytes
    from trainlab.quantization.methods import flat_state, quantized_layers, select_engine
    from trainlab.tasks import TASKS

    engine = select_engine()
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    task = TASKS.get(cfg.task.name).for_run(run, cfg, torch.device("cpu"))
    if not task.has_split(split):
        raise UserError(f"{run.path.name} has no {split} split", f"use one of: {', '.join(task.split_names())}")
    model = _float_model(task, cfg)
    load_weights(model, source, "cpu")
    example = task.probe_batch("train", 2)[0]
    used = calibration if quantizer.calibrates else 0
    qmodel = quantizer.convert(model, example, _examples(task, "train", used))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, {"model": flat_state(qmodel), "quantized": {
        "method": method, "engine": engine, "from": checkpoint, "calibration": used}})
    qmodel = load_quantized(out, task, cfg)

    x = _first(task, split, batch_size or cfg.train.batch_size)
    times = latencies([model, qmodel], x, repeats=repeats)
    sizes = [state_bytes({"model": model.state_dict()}), out.stat().st_size]
    variants = [Variant(name, _metrics(task, m, split), size, t.median_ms, t.iqr_ms, t.throughput)
                for name, m, size, t in zip(("fp32", "int8"), (model, qmodel), sizes, times, strict=True)]
    report = QuantizeReport(run.path.name, method, engine, out, split, checkpoint, used, len(x), repeats,
                            torch.get_num_threads(), quantized_layers(qmodel), *variants,
                            agreement=_agreement(task, model, qmodel, split))
    atomic_write_bytes(out.with_suffix(".md"), report.markdown().encode())
    write_json(out.with_suffix(".json"), report.to_json())
    return report


def load_quantized(path: Path, task: Task, cfg: Config, state: dict[str, Any] | None = None) -> nn.Module:
    """The int8 model in `path` (`state`: already read from it): `cfg`'s model sized by `task`, converted by the
    method the file names into a skeleton, and the file's int8 tensors loaded into it (CPU, eval mode)."""
    from trainlab.engine.checkpoint import load_checkpoint
    from trainlab.quantization.methods import load_flat_state, quiet, select_engine

    if state is None:
        with quiet():  # torch.load of quantized tensors warns of TypedStorage
            state = load_checkpoint(path)
    info = state.get("quantized")
    if not isinstance(info, dict) or info.get("method") not in METHODS.names():
        raise CheckpointError(f"{path} is not a quantized checkpoint", "write one with `trainlab quantize RUN`")
    check_supported(cfg.model.name)
    select_engine(info.get("engine") if info.get("engine") in _engines() else None)
    skeleton = METHODS.get(info["method"]).skeleton(_float_model(task, cfg), task.probe_batch("train", 2)[0].cpu())
    problems = load_flat_state(skeleton, state["model"])
    if problems:
        raise CheckpointError(f"{path} was quantized from another architecture (first mismatch: {problems[0]})",
                              "quantize this run again with `trainlab quantize RUN`")
    return skeleton.eval()


def is_quantized(state: dict[str, Any]) -> bool:
    """Whether a loaded checkpoint holds an int8 model (written by `quantize`)."""
    return "quantized" in state


def _float_model(task: Task, cfg: Config) -> nn.Module:
    """`cfg`'s fp32 model in the memory format it trained in: with train.channels_last the batches are
    channels-last, and convolutions left in fp32 (all of them in a dynamic model) are much slower on such
    batches with contiguous weights."""
    import torch

    model = task.build_model(cfg)
    return model.to(memory_format=torch.channels_last) if cfg.train.channels_last else model


def _engines() -> list[str]:
    import torch

    return list(torch.backends.quantized.supported_engines)


def _examples(task: Task, split: str, n: int) -> Iterator[torch.Tensor]:
    """The first `n` inputs of `split`, in its order, as the task batches them."""
    for x, *_ in task.eval_batches(split):
        if n <= 0:
            return
        yield x[:n]
        n -= len(x)


def _first(task: Task, split: str, n: int) -> torch.Tensor:
    """One batch of (up to) `n` inputs of `split`, the timed batch."""
    import torch

    return torch.cat(list(_examples(task, split, n)))


def _metrics(task: Task, model: nn.Module, split: str) -> dict[str, float]:
    from trainlab.engine.evaluate import eval_sums

    return task.summarize(eval_sums(model, task.eval_batches(split), lambda m, b: task.step(m, b)[1]))


def _agreement(task: Task, fp32: nn.Module, int8: nn.Module, split: str) -> float | None:
    """Share of `split`'s examples on which every integer prediction (class label) of the two models agrees;
    None when the task predicts no labels (regression)."""
    import numpy as np

    predict = getattr(task, "predict", None)
    if predict is None:
        return None
    a, b = predict(fp32, split), predict(int8, split)
    labels = [k for k, v in a.items() if np.issubdtype(v.dtype, np.integer)]
    if not labels:
        return None
    same = np.logical_and.reduce([a[k] == b[k] for k in labels])
    return float(same.mean())
