"""What the character-level tasks (seq2seq, char_lm) share: the run's vocabulary file, the config check,
and token statistics (label-smoothed cross-entropy over non-PAD targets)."""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.data.vocab import PAD, CharVocab
from trainlab.engine.task import Stats, Task
from trainlab.errors import ConfigError
from trainlab.models import build_model
from trainlab.runs import RunDir

VOCAB_FILE = "vocab.json"


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


def require(cfg: Config, data: str, models: tuple[str, ...]) -> None:
    """Refuse a model, dataset or loss the task cannot train."""
    task = cfg.task.name
    if cfg.model.name not in models:
        raise ConfigError(f"task {task} trains {' or '.join(models)}, not model.name={cfg.model.name}",
                          f"set model.name={models[0]}")
    if cfg.data.name != data:
        raise ConfigError(f"task {task} reads data.name={data}, not {cfg.data.name}", f"set data.name={data}")
    if cfg.loss.name not in (None, "cross_entropy"):
        raise ConfigError(f"task {task} trains with cross_entropy, not loss.name={cfg.loss.name}",
                          "set loss.name=cross_entropy (label smoothing: loss.label_smoothing)")


class CharTask(Task):
    """A task over a character vocabulary: built from the training text, or the one a finished run saved.
    With `lazy`, the data are read when first needed, so a finished run with its vocabulary samples without
    them; otherwise at once, so that data problems surface before a run directory is made."""

    def __init__(self, cfg: Config, device: torch.device, vocab: CharVocab | None = None, lazy: bool = False) -> None:
        self.cfg, self.device, self._vocab = cfg, device, vocab
        if not lazy:
            _ = self.splits

    @abstractmethod
    def load(self, vocab: CharVocab | None) -> tuple[CharVocab, dict[str, Any]]:
        """(the vocabulary: `vocab`, else built from the training text; every non-empty split)."""

    @cached_property
    def splits(self) -> dict[str, Any]:
        self._vocab, splits = self.load(self._vocab)
        return splits

    @property
    def vocab(self) -> CharVocab:
        if self._vocab is None:
            _ = self.splits
        assert self._vocab is not None
        return self._vocab

    @classmethod
    def for_run(cls, run: RunDir, cfg: Config, device: torch.device) -> Any:
        """The task of a finished run, with the vocabulary it was trained with."""
        path = run.path / VOCAB_FILE
        return cls(cfg, device, CharVocab.load(path) if path.is_file() else None)

    @classmethod
    def for_inference(cls, run: RunDir, cfg: Config, device: torch.device) -> Any:
        """The finished run's task reading no data until asked (its vocabulary is in the run directory)."""
        path = run.path / VOCAB_FILE
        return cls(cfg, device, CharVocab.load(path), lazy=True) if path.is_file() else cls.for_run(run, cfg, device)

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        return build_model((cfg or self.cfg).model, (0,), len(self.vocab))

    def num_train_batches(self) -> int:
        return self.splits["train"].num_batches(self.cfg.train.batch_size, world=self.shard[1])

    def split_names(self) -> list[str]:
        return list(self.splits)

    def save_vocab(self, run_dir: RunDir) -> None:
        self.vocab.save(run_dir.path / VOCAB_FILE)
