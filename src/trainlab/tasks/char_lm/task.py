"""char_lm: next-character prediction on a text file; perplexity per epoch, sampled continuations."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.config.tasks import CharLMTaskOptions
from trainlab.data.vocab import CharVocab
from trainlab.engine.evaluate import eval_sums
from trainlab.engine.task import Batch, EvalOptions, EvalReport, Member, SampleOptions, Stats
from trainlab.errors import DataError
from trainlab.runs import RunDir
from trainlab.tasks.char_lm.data import StreamSplit, read_text
from trainlab.tasks.char_lm.sampling import continue_text
from trainlab.tasks.chars import CharTask, require, token_stats
from trainlab.tasks.registry import TASKS


@TASKS.register("char_lm")
class CharLMTask(CharTask):
    metrics = ("loss", "acc", "ppl")
    monitor = "acc"
    minimized = frozenset({"loss", "ppl"})

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None, lazy: bool = False) -> None:
        require(cfg, "text", ("char_lm",))
        super().__init__(cfg, device, vocab, lazy)

    def load(self, vocab: CharVocab | None) -> tuple[CharVocab, dict[str, StreamSplit]]:
        opts: CharLMTaskOptions = self.cfg.task  # type: ignore[assignment]
        texts = read_text(self.cfg.data)
        vocab = vocab or CharVocab.build([texts["train"]])
        splits = {name: split for name, text in texts.items()
                  if len(split := StreamSplit.encode(text, vocab, opts.seq_len, self.device))}
        if "train" not in splits:
            raise DataError(f"{self.cfg.data.path} is too short to train on", "use a longer text file")
        return vocab, splits

    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[Batch]:
        return self.splits["train"].batches(self.cfg.train.batch_size, gen, self.shard)

    def eval_batches(self, split: str) -> Iterator[Batch]:
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
        self.save_vocab(run_dir)
        text = self.vocab.decode(self.splits["test"].x[0].tolist()) if "test" in self.splits else ""
        gen = torch.Generator(device=self.device.type).manual_seed(self.cfg.train.seed)
        lines = [f"# Samples of {run_dir.path.name}", ""]
        for temperature in (0.5, 0.8, 1.0):
            prompt = text[:40]
            sample = continue_text(model, self.vocab, prompt, 300, temperature, gen)
            lines += [f"## temperature {temperature}", "", "```", prompt + sample, "```", ""]
        (run_dir.path / "samples.md").write_text("\n".join(lines), encoding="utf-8")
        return {}

    def evaluate(self, members: Sequence[Member], split: str, checkpoint: str, options: EvalOptions) -> EvalReport:
        """Loss, perplexity and character accuracy of one run."""
        m = self.summarize(eval_sums(members[0].model, self.eval_batches(split), lambda mod, b: self.step(mod, b)[1]))
        return EvalReport([f"{members[0].name} [{split}, {checkpoint}]: loss {m['loss']:.4f}  "
                           f"ppl {m['ppl']:.3f}  acc {m['acc']:.4f}"], metrics=m)

    def sample(self, model: nn.Module, prompt: str, options: SampleOptions, gen: torch.Generator) -> str:
        """`prompt` and its continuation."""
        return prompt + continue_text(model, self.vocab, prompt, options.length, options.temperature, gen)
