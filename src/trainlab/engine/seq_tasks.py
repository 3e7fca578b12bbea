"""Sequence tasks: `seq2seq` (questions → answers, character by character) and `char_lm`.

Both plug into the one Trainer. Metrics are computed with teacher forcing: a sequence counts as
exact-match when every target character (EOS included) is the argmax, which is exactly when
greedy decoding reproduces it. `final_report` decodes for real (greedy or beam).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config, TrainConfig
from trainlab.data.math.vocab import CharVocab
from trainlab.engine.checkpoint import load_checkpoint, load_model_state
from trainlab.engine.seq_data import StreamSplit, load_math, read_text, split_settings
from trainlab.engine.seq_report import Scored, SplitRow, overlap_table, write_report
from trainlab.engine.task import TASKS, Batch, Stats, Task
from trainlab.engine.trainer import accumulate
from trainlab.errors import ConfigError, DataError, UserError
from trainlab.models import build_model
from trainlab.models.seq import PAD, decode
from trainlab.models.seq.ensemble import Ensemble
from trainlab.runs import RunDir

log = logging.getLogger("trainlab")

VOCAB_FILE = "vocab.json"
#: splits decoded for the report (the engine asks for one only when a test split exists)
DECODED_SPLITS = ("test", "interpolate", "extrapolate")
#: train examples scored (teacher-forced) for the report
TRAIN_SAMPLE = 10_000


@dataclass
class EvalReport:
    """What `trainlab eval` prints for a run whose task evaluates itself."""

    lines: list[str]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""


def teacher_forcing_ratio(train: TrainConfig, epoch: int) -> float:
    """The scheduled share of target inputs in epoch `epoch` (1-based)."""
    tf = train.teacher_forcing
    if tf.schedule == "linear":
        progress = (epoch - 1) / max(train.epochs - 1, 1)
        return tf.ratio + (tf.min_ratio - tf.ratio) * progress
    if tf.schedule == "inverse_sigmoid":
        return tf.ratio * tf.k / (tf.k + math.exp(epoch / tf.k))
    return tf.ratio


def token_stats(logits: torch.Tensor, target: torch.Tensor, smoothing: float) -> tuple[torch.Tensor, Stats]:
    """Objective (label-smoothed CE over non-PAD targets) and summed NLL / correct / token counts."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    mask = (target != PAD).float()
    nll = -logp.gather(-1, target[..., None]).squeeze(-1)
    tokens = mask.sum()
    per_token = (1 - smoothing) * nll - smoothing * logp.mean(-1) if smoothing else nll
    objective = (per_token * mask).sum() / tokens.clamp(min=1)
    right = logp.argmax(-1) == target
    stats = {"loss": (nll * mask).sum().detach(), "tokens": tokens, "correct_chars": (right.float() * mask).sum()}
    return objective, stats | {"right": right | (mask == 0)}


def _require(cfg: Config, data: str, models: tuple[str, ...]) -> None:
    if cfg.model.name not in models:
        raise ConfigError(f"task {cfg.task} trains {' or '.join(models)}, not model.name={cfg.model.name}",
                          f"set model.name={models[0]}")
    if cfg.data.name != data:
        raise ConfigError(f"task {cfg.task} reads data.name={data}, not {cfg.data.name}", f"set data.name={data}")
    if cfg.loss.name != "cross_entropy":
        raise ConfigError(f"task {cfg.task} trains with cross_entropy, not loss.name={cfg.loss.name}",
                          "set loss.name=cross_entropy (label smoothing: loss.label_smoothing)")


class _SeqTask(Task):
    """Shared parts: the vocabulary, the model, the epoch of a generator, loading a run."""

    vocab: CharVocab
    splits: dict[str, Any]

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None) -> None:
        self.cfg, self.device = cfg, device

    def build_model(self) -> nn.Module:
        return build_model(self.cfg.model, (0,), len(self.vocab))

    @classmethod
    def for_run(cls, run: RunDir, cfg: Config, device: torch.device) -> Any:
        """The task of a finished run, with the vocabulary it was trained with."""
        path = run.path / VOCAB_FILE
        return cls(cfg, device, CharVocab.load(path) if path.is_file() else None)

    def load_model(self, run: RunDir, checkpoint: str) -> nn.Module:
        return load_weights(self.build_model(), run, checkpoint, self.device)

    @classmethod
    def for_eval(cls, run: RunDir, cfg: Config, split: str, checkpoint: str, device: torch.device) -> Any:
        """(task, model with the run's weights) for scoring `split` of a finished run."""
        task = cls.for_run(run, cfg, device)
        if not task.has_split(split):
            raise UserError(f"{run.path.name} has no {split} split", f"use one of: {', '.join(task.splits)}")
        return task, task.load_model(run, checkpoint)

    def num_train_batches(self) -> int:
        return self.splits["train"].num_batches(self.cfg.train.batch_size)

    def has_split(self, split: str) -> bool:
        return split in self.splits


class Seq2SeqTask(_SeqTask):
    """Mathematics questions → answers; metrics per module and per split."""

    metrics = ("loss", "acc", "char_acc")

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None) -> None:
        super().__init__(cfg, device)
        _require(cfg, "math", ("seq2seq", "transformer"))
        self.vocab, self.splits = load_math(cfg.data, device, vocab)
        self.ratio = 1.0

    def train_batches(self, gen: torch.Generator, epoch: int) -> Any:
        ratio = teacher_forcing_ratio(self.cfg.train, epoch)
        if ratio != self.ratio:
            log.info("teacher forcing ratio %.3f", ratio)
        self.ratio = ratio
        return self.splits["train"].train_batches(self.cfg.train.batch_size, self.cfg.train.seed, epoch)

    def eval_batches(self, split: str, limit: int | None = None) -> Any:
        """Batches of `split` grouped by question length; `limit`: of its first `limit` examples only."""
        data = self.splits[split]
        return (data.batch(index) for index in data.sorted_index(self.cfg.train.eval_batch_size, limit))

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        src, src_len, tgt = batch
        ratio = self.ratio if model.training else 1.0
        logits = model(src, src_len, tgt[:, :-1], teacher_forcing=ratio)
        loss, stats = token_stats(logits, tgt[:, 1:], self.cfg.loss.label_smoothing)
        exact = stats.pop("right").all(dim=1)
        return loss, stats | {"exact": exact.sum(), "count": torch.full((), len(exact), device=exact.device)}

    def summarize(self, sums: Stats) -> dict[str, float]:
        tokens, count = max(float(sums["tokens"]), 1.0), max(float(sums["count"]), 1.0)
        return {"loss": float(sums["loss"]) / tokens, "acc": float(sums["exact"]) / count,
                "char_acc": float(sums["correct_chars"]) / tokens}

    @torch.no_grad()
    def score(self, model: nn.Module, split: str, beam: int | None = None) -> Scored:
        """Decode a split (greedy, or beam search) and compare with the answers."""
        model.eval()
        dec = self.cfg.decode
        data = self.splits[split]
        hyps = [""] * len(data)
        for index in data.sorted_index(self.cfg.train.eval_batch_size):
            src, src_len, _ = data.batch(index)
            out = decode(model, src, src_len, dec.max_len, beam or dec.beam, dec.length_penalty)
            for i, row in zip(index.tolist(), out.tokens.cpu().tolist(), strict=True):
                hyps[i] = self.vocab.decode(row)
        return Scored(split, data.examples, hyps)

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """vocab.json, module_acc.{md,csv}, samples.md, plots/module_acc.png; per-split and per-module fields."""
        self.vocab.save(run_dir.path / VOCAB_FILE)
        decoding = _decoding_name(self.cfg.decode.beam)
        scored = {s: self.score(model, s) for s in DECODED_SPLITS if s in self.splits}
        rows = []
        for split, data in self.splits.items():
            limit = TRAIN_SAMPLE if split == "train" else None
            forced = _evaluate(self, model, self.eval_batches(split, limit))
            exact = scored[split].accuracy if split in scored else forced["acc"]
            rows.append(SplitRow(split, min(len(data), limit or len(data)), len(data), exact, forced["char_acc"],
                                 forced["loss"], split in scored))
        overlap = scored["test"].overlap(self.splits["train"].examples)
        write_report(list(scored.values()), run_dir, self.cfg.decode.samples, rows, decoding, overlap)
        out: dict[str, Any] = {"decoding": decoding, "test_decoded_acc": scored["test"].accuracy}
        out["seen_in_training"] = {  # of the test split; None: no such questions
            m: {k: None if math.isnan(x) else round(x, 6) for k, x in zip(("seen", "acc_seen", "acc_unseen"), v,
                                                                           strict=True)}
            for m, v in overlap.items()}
        out |= {f"{s}_acc": v.accuracy for s, v in scored.items() if s != "test"}
        out["splits"] = {r.split: {"examples": r.examples, "of": r.total, "exact": round(r.exact, 6),
                                   "char_acc": round(r.char_acc, 6), "loss": round(r.loss, 6), "decoded": r.decoded}
                         for r in rows}
        return out | {"module_acc": {s: v.module_accuracy() for s, v in scored.items()}}

    @classmethod
    def evaluate_run(cls, runs: list[RunDir], cfgs: list[Config], split: str, checkpoint: str,
                     device: torch.device, beam: int | None = None) -> EvalReport:
        """Exact match per module of one run, or of an ensemble of runs (mean probabilities)."""
        task, first = cls.for_eval(runs[0], cfgs[0], split, checkpoint, device)  # the data is read once
        members = [first]
        for run, cfg in zip(runs[1:], cfgs[1:], strict=True):
            vocab = run.path / VOCAB_FILE
            same_vocab = not vocab.is_file() or CharVocab.load(vocab) == task.vocab
            if split_settings(cfg.data) != split_settings(cfgs[0].data) or not same_vocab:
                raise UserError(f"{run.path.name} was trained on other data than {runs[0].path.name}",
                                f"ensemble only runs with the same data settings and {split} split")
            members.append(load_weights(build_model(cfg.model, (0,), len(task.vocab)), run, checkpoint, device))
        model = first if len(members) == 1 else Ensemble(members)
        forced = _evaluate(task, model, task.eval_batches(split))
        scored = task.score(model, split, beam)
        decoding = _decoding_name(beam or cfgs[0].decode.beam)
        name = runs[0].path.name if len(runs) == 1 else f"ensemble of {len(runs)}"
        lines = [f"{name} [{split}, {checkpoint}, {decoding}]: exact-match {scored.accuracy:.4f}  "
                 f"char_acc {scored.char_accuracy:.4f}  loss {forced['loss']:.4f}  "
                 f"teacher-forced char_acc {forced['char_acc']:.4f}"]
        columns, per_member = ["module", "examples", "exact-match"], []
        if len(members) > 1:
            alone = [task.score(m, split, beam) for m in members]
            lines += [f"member #{i} {run.path.name}: exact-match {s.accuracy:.4f}"
                      for i, (run, s) in enumerate(zip(runs, alone, strict=True), start=1)]
            lines.append(f"ensemble gain over the best member: {scored.accuracy - max(s.accuracy for s in alone):+.4f}")
            columns = ["module", "examples", *(f"#{i}" for i in range(1, len(runs) + 1)), "ensemble"]
            per_member = [s.module_counts() for s in alone]
        rows = [[m, str(n), *(f"{c[m][1]:.4f}" for c in per_member), f"{acc:.4f}"]
                for m, (n, acc) in scored.module_counts().items()]
        if split != "train":  # exact match on questions whose numbers a training question of the module has
            columns += ["seen", "on seen", "on unseen"]
            overlap = scored.overlap(task.splits["train"].examples)
            for row, seen in zip(rows, overlap_table(overlap, percent=False), strict=True):
                row += seen[1:]
        return EvalReport(lines, columns, rows, "exact match per module")


class CharLMTask(_SeqTask):
    """Next-character prediction on a text file; perplexity per epoch."""

    metrics = ("loss", "acc", "ppl")

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None) -> None:
        super().__init__(cfg, device)
        _require(cfg, "text", ("char_lm",))
        texts = read_text(cfg.data)
        self.vocab = vocab or CharVocab.build([texts["train"]])
        seq_len = cfg.data.text.seq_len
        self.splits = {name: split for name, text in texts.items()
                       if len(split := StreamSplit.encode(text, self.vocab, seq_len, device))}
        if "train" not in self.splits:
            raise DataError(f"{cfg.data.path} is too short to train on", "use a longer text file")

    def train_batches(self, gen: torch.Generator, epoch: int) -> Any:
        return self.splits["train"].batches(self.cfg.train.batch_size, gen)

    def eval_batches(self, split: str) -> Any:
        return self.splits[split].batches(self.cfg.train.eval_batch_size)

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x, y = batch
        logits, _ = model(x)
        loss, stats = token_stats(logits, y, self.cfg.loss.label_smoothing)
        stats.pop("right")
        return loss, stats

    def summarize(self, sums: Stats) -> dict[str, float]:
        tokens = max(float(sums["tokens"]), 1.0)
        loss = float(sums["loss"]) / tokens
        return {"loss": loss, "acc": float(sums["correct_chars"]) / tokens, "ppl": math.exp(min(loss, 50.0))}

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """vocab.json and samples.md (continuations of test-text prompts)."""
        from trainlab.sample import continue_text

        self.vocab.save(run_dir.path / VOCAB_FILE)
        text = self.vocab.decode(self.splits["test"].x[0].tolist()) if "test" in self.splits else ""
        gen = torch.Generator(device=self.device.type).manual_seed(self.cfg.train.seed)
        lines = [f"# Samples of {run_dir.path.name}", ""]
        for temperature in (0.5, 0.8, 1.0):
            prompt = text[:40]
            sample = continue_text(model, self.vocab, prompt, 300, temperature, gen)
            lines += [f"## temperature {temperature}", "", "```", prompt + sample, "```", ""]
        (run_dir.path / "samples.md").write_text("\n".join(lines), encoding="utf-8")
        return {}

    @classmethod
    def evaluate_run(cls, runs: list[RunDir], cfgs: list[Config], split: str, checkpoint: str,
                     device: torch.device, beam: int | None = None) -> EvalReport:
        if len(runs) > 1:
            raise UserError("ensembles cover classification and seq2seq runs, not char_lm",
                            "evaluate char_lm runs one at a time")
        run = runs[0]
        task, model = cls.for_eval(run, cfgs[0], split, checkpoint, device)
        m = _evaluate(task, model, task.eval_batches(split))
        return EvalReport([f"{run.path.name} [{split}, {checkpoint}]: loss {m['loss']:.4f}  "
                           f"ppl {m['ppl']:.3f}  acc {m['acc']:.4f}"])


@torch.no_grad()
def _evaluate(task: Task, model: nn.Module, batches: Iterable[Batch]) -> dict[str, float]:
    """Teacher-forced metrics of `batches` (what the Trainer logs per epoch)."""
    model.eval()
    sums: Stats = {}
    for batch in batches:
        accumulate(sums, task.step(model, batch)[1])
    return task.summarize(sums)


def _decoding_name(beam: int) -> str:
    return "greedy" if beam == 1 else f"beam {beam}"


def load_weights(model: nn.Module, run: RunDir, checkpoint: str, device: torch.device) -> nn.Module:
    """`model` on `device` with the run's best or last weights, in eval mode."""
    if checkpoint not in ("best", "last"):
        raise ConfigError(f"unknown checkpoint {checkpoint!r}", "use --checkpoint best or --checkpoint last")
    model = model.to(device)
    ckpt = run.checkpoint(checkpoint)
    load_model_state(model, load_checkpoint(ckpt, device), ckpt)
    return model.eval()


def load_run(run_dir: Path | str, checkpoint: str = "best",
             device: torch.device | None = None) -> tuple[Config, nn.Module, CharVocab]:
    """Config, model and vocabulary of a sequence run (vocab.json; else rebuilt from the data)."""
    from trainlab.config import validate
    from trainlab.runs import read_yaml

    run = RunDir.open(Path(run_dir))
    cfg = validate(read_yaml(run.config))
    task_cls = TASKS.get(cfg.task)
    if not (isinstance(task_cls, type) and issubclass(task_cls, _SeqTask)):
        raise UserError(f"{run.path.name} is a {cfg.task} run", "pass a seq2seq or char_lm run directory")
    device = device or torch.device("cpu")
    path = run.path / VOCAB_FILE
    vocab = CharVocab.load(path) if path.is_file() else task_cls(cfg, device).vocab
    model = build_model(cfg.model, (0,), len(vocab))
    return cfg, load_weights(model, run, checkpoint, device), vocab


TASKS.register("seq2seq")(Seq2SeqTask)
TASKS.register("char_lm")(CharLMTask)
