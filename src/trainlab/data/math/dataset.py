"""Mathematics files → vocabulary (from train text) + encoded tensors for every split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trainlab.data.math.batching import MathTensors, encode_examples
from trainlab.data.math.reader import read_math_dir
from trainlab.data.math.vocab import CharVocab


@dataclass(frozen=True)
class MathData:
    vocab: CharVocab
    splits: dict[str, MathTensors]  # train, val, test, interpolate, extrapolate


def load_math_data(
    root: str | Path,
    modules: Sequence[str] | None = None,
    difficulty: str = "mixed",
    seed: int = 0,
    lowercase: bool = False,
    vocab: CharVocab | None = None,
) -> MathData:
    """Read and encode every split; build the vocabulary from train text unless given
    (pass the one saved in a run dir when evaluating or resuming)."""
    examples = read_math_dir(root, modules, difficulty, seed)
    if vocab is None:
        train = examples["train"]
        vocab = CharVocab.build([e.question for e in train] + [e.answer for e in train], lowercase)
    return MathData(vocab, {name: encode_examples(exs, vocab) for name, exs in examples.items()})
