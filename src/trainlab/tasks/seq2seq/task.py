"""seq2seq: Mathematics questions → answers, character by character; metrics per module and per split.

Epoch metrics are computed with teacher forcing: a sequence counts as exact-match when every target
character (EOS included) is the argmax, which is exactly when greedy decoding reproduces it.
`final_report` and `evaluate` decode for real (greedy or beam).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.config.tasks import Seq2SeqTaskOptions, TeacherForcingConfig
from trainlab.data.vocab import CharVocab
from trainlab.engine.evaluate import eval_sums
from trainlab.engine.task import EvalOptions, EvalReport, Member, ReportTable, SampleOptions, Stats
from trainlab.errors import UserError
from trainlab.models.seq import decode
from trainlab.models.seq.ensemble import SeqEnsemble
from trainlab.runs import RunDir
from trainlab.tasks.chars import VOCAB_FILE, CharTask, require, token_stats
from trainlab.tasks.registry import TASKS
from trainlab.tasks.seq2seq.data import MathSplit, SeqBatch, load_math, split_settings
from trainlab.tasks.seq2seq.report import Scored, SplitRow, overlap_table, write_report

log = logging.getLogger("trainlab")

#: splits decoded for the report (the engine asks for one only when a test split exists)
DECODED_SPLITS = ("test", "interpolate", "extrapolate")
#: train examples scored (teacher-forced) for the report
TRAIN_SAMPLE = 10_000


def teacher_forcing_ratio(tf: TeacherForcingConfig, epochs: int, epoch: int) -> float:
    """The scheduled share of target inputs in epoch `epoch` (1-based) of `epochs`."""
    if tf.schedule == "linear":
        progress = (epoch - 1) / max(epochs - 1, 1)
        return tf.ratio + (tf.min_ratio - tf.ratio) * progress
    if tf.schedule == "inverse_sigmoid":
        return tf.ratio * tf.k / (tf.k + math.exp(epoch / tf.k))
    return tf.ratio


@TASKS.register("seq2seq")
class Seq2SeqTask(CharTask):
    metrics = ("loss", "acc", "char_acc")
    monitor = "acc"
    eval_options = frozenset({"beam"})
    ensembles = True

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None, lazy: bool = False) -> None:
        require(cfg, "math", ("seq2seq", "transformer"))
        self.opts: Seq2SeqTaskOptions = cfg.task  # type: ignore[assignment]
        super().__init__(cfg, device, vocab, lazy)

    def load(self, vocab: CharVocab | None) -> tuple[CharVocab, dict[str, MathSplit]]:
        return load_math(self.cfg.data, self.opts.math, self.device, vocab)

    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[SeqBatch]:
        """Each batch carries its epoch's teacher-forcing ratio (scheduled sampling)."""
        ratio = teacher_forcing_ratio(self.opts.teacher_forcing, self.cfg.train.epochs, epoch)
        if self.opts.teacher_forcing.schedule != "constant":
            log.info("teacher forcing ratio %.3f", ratio)
        return self.splits["train"].train_batches(self.cfg.train.batch_size, self.cfg.train.seed, epoch, ratio,
                                                   self.shard)

    def eval_batches(self, split: str, limit: int | None = None) -> Iterator[SeqBatch]:
        """Batches of `split` grouped by question length; `limit`: of its first `limit` examples only."""
        data = self.splits[split]
        return (data.batch(index) for index in data.sorted_index(self.cfg.train.eval_batch_size, limit))

    def probe_batch(self, split: str, size: int) -> SeqBatch:
        return next(iter(self.eval_batches(split))).head(size)

    def step(self, model: nn.Module, batch: SeqBatch) -> tuple[torch.Tensor, Stats]:
        ratio = batch.teacher_forcing if model.training else 1.0
        logits = model(batch.src, batch.src_len, batch.tgt[:, :-1], teacher_forcing=ratio)
        loss, stats = token_stats(logits, batch.tgt[:, 1:], self.cfg.loss.label_smoothing)
        exact = stats.pop("right").all(dim=1)
        return loss, stats | {"exact": exact.sum(), "count": torch.full((), len(exact), device=exact.device)}

    def summarize(self, sums: Stats) -> dict[str, float]:
        tokens, count = max(float(sums["tokens"]), 1.0), max(float(sums["count"]), 1.0)
        return {"loss": float(sums["loss"]) / tokens, "acc": float(sums["exact"]) / count,
                "char_acc": float(sums["correct_chars"]) / tokens}

    def forced(self, model: nn.Module, batches: Iterator[SeqBatch]) -> dict[str, float]:
        """Teacher-forced metrics of `batches` (what the Trainer logs per epoch)."""
        return self.summarize(eval_sums(model, batches, lambda m, b: self.step(m, b)[1]))

    @torch.no_grad()
    def score(self, model: nn.Module, split: str, beam: int | None = None) -> Scored:
        """Decode a split (greedy, or beam search) and compare with the answers."""
        model.eval()
        dec = self.opts.decode
        data = self.splits[split]
        hyps = [""] * len(data)
        for index in data.sorted_index(self.cfg.train.eval_batch_size):
            batch = data.batch(index)
            out = decode(model, batch.src, batch.src_len, dec.max_len, beam or dec.beam, dec.length_penalty)
            for i, row in zip(index.tolist(), out.tokens.cpu().tolist(), strict=True):
                hyps[i] = self.vocab.decode(row)
        return Scored(split, data.examples, hyps)

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """vocab.json, module_acc.{md,csv}, samples.md, plots/module_acc.png; per-split and per-module fields."""
        self.save_vocab(run_dir)
        decoding = _decoding_name(self.opts.decode.beam)
        scored = {s: self.score(model, s) for s in DECODED_SPLITS if s in self.splits}
        rows = []
        for split, data in self.splits.items():
            limit = TRAIN_SAMPLE if split == "train" else None
            forced = self.forced(model, self.eval_batches(split, limit))
            exact = scored[split].accuracy if split in scored else forced["acc"]
            rows.append(SplitRow(split, min(len(data), limit or len(data)), len(data), exact, forced["char_acc"],
                                 forced["loss"], split in scored))
        overlap = scored["test"].overlap(self.splits["train"].examples)
        write_report(list(scored.values()), run_dir, self.opts.decode.samples, rows, decoding, overlap)
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

    # ------------------------------------------------------------- evaluation
    def check_member(self, run: RunDir, cfg: Config, first: RunDir, split: str) -> None:
        """Members share the splits (training-only options may differ) and the vocabulary."""
        vocab = run.path / VOCAB_FILE
        same_vocab = not vocab.is_file() or CharVocab.load(vocab) == self.vocab
        theirs = split_settings(cfg.data, cfg.task.math)  # type: ignore[union-attr]  (the same task: checked)
        if not (theirs == split_settings(self.cfg.data, self.opts.math) and same_vocab):
            raise UserError(f"{run.path.name} was trained on other data than {first.path.name}",
                            f"ensemble only runs with the same data settings and {split} split")

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str, options: EvalOptions) -> EvalReport:
        """Exact match per module of one run, or of an ensemble of runs (mean probabilities)."""
        model = members[0].model if len(members) == 1 else SeqEnsemble([m.model for m in members])
        forced = self.forced(model, self.eval_batches(split))
        scored = self.score(model, split, options.beam)
        decoding = _decoding_name(options.beam or self.opts.decode.beam)
        name = members[0].name if len(members) == 1 else f"ensemble of {len(members)}"
        lines = [f"{name} [{split}, {checkpoint}, {decoding}]: exact-match {scored.accuracy:.4f}  "
                 f"char_acc {scored.char_accuracy:.4f}  loss {forced['loss']:.4f}  "
                 f"teacher-forced char_acc {forced['char_acc']:.4f}"]
        columns, per_member = ["module", "examples", "exact-match"], []
        if len(members) > 1:
            alone = [self.score(m.model, split, options.beam) for m in members]
            lines += [f"member #{i} {m.name}: exact-match {s.accuracy:.4f}"
                      for i, (m, s) in enumerate(zip(members, alone, strict=True), start=1)]
            lines.append(f"ensemble gain over the best member: {scored.accuracy - max(s.accuracy for s in alone):+.4f}")
            columns = ["module", "examples", *(f"#{i}" for i in range(1, len(members) + 1)), "ensemble"]
            per_member = [s.module_counts() for s in alone]
        rows = [[m, str(n), *(f"{c[m][1]:.4f}" for c in per_member), f"{acc:.4f}"]
                for m, (n, acc) in scored.module_counts().items()]
        if split != "train":  # exact match on questions whose numbers a training question of the module has
            columns += ["seen", "on seen", "on unseen"]
            overlap = scored.overlap(self.splits["train"].examples)
            for row, seen in zip(rows, overlap_table(overlap, percent=False), strict=True):
                row += seen[1:]
        metrics = {"acc": scored.accuracy, "char_acc": scored.char_accuracy, "loss": forced["loss"]}
        return EvalReport(lines, [_module_table(columns, rows)], metrics)

    def sample(self, model: nn.Module, prompt: str, options: SampleOptions, gen: torch.Generator) -> str:
        """The model's answer to one question (greedy or beam search, as the run's decode settings)."""
        ids = torch.tensor([self.vocab.encode(prompt)], dtype=torch.long, device=self.device)
        if not ids.numel():
            raise UserError("the question is empty", 'pass --prompt "What is 3 + 4?"')
        dec = self.opts.decode
        out = decode(model, ids, torch.tensor([ids.shape[1]], device=self.device), dec.max_len,
                     options.beam or dec.beam, dec.length_penalty)
        return self.vocab.decode(out.tokens[0].tolist())


def _module_table(columns: list[str], rows: list[list[str]]) -> ReportTable:
    """Exact match per module; a prefix such as `numbers__` that every module shares moves to the title, so
    module names are not cut off on a narrow console."""
    title = "exact match per module"
    prefix = rows[0][0].split("__")[0] + "__" if rows and "__" in rows[0][0] else ""
    if prefix and all(row[0].startswith(prefix) for row in rows):
        rows, title = [[row[0].removeprefix(prefix), *row[1:]] for row in rows], f"{title} ({prefix}…)"
    return ReportTable(title, columns, rows)


def _decoding_name(beam: int) -> str:
    return "greedy" if beam == 1 else f"beam {beam}"


__all__ = ["VOCAB_FILE", "Seq2SeqTask", "teacher_forcing_ratio"]
