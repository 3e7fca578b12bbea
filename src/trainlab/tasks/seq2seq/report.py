"""Decoded answers scored per module, and the seq2seq run files: module_acc.{md,csv}, samples.md, plot."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from trainlab.data.math.reader import Example
from trainlab.report.figures import save
from trainlab.runs import RunDir


@dataclass
class Scored:
    """One split's decoded answers (`hyps`) next to its examples."""

    split: str
    examples: Sequence[Example]
    hyps: list[str]

    @cached_property
    def correct(self) -> np.ndarray:
        return np.array([h == e.answer for h, e in zip(self.hyps, self.examples, strict=True)], dtype=bool)

    @cached_property
    def modules(self) -> np.ndarray:
        return np.array([e.module for e in self.examples])

    @property
    def accuracy(self) -> float:
        """Exact-match accuracy."""
        return float(self.correct.mean()) if len(self.correct) else 0.0

    @property
    def char_accuracy(self) -> float:
        """Share of answer characters the hypothesis has at the same position."""
        total = sum(len(e.answer) for e in self.examples)
        hits = sum(sum(x == y for x, y in zip(h, e.answer, strict=False))
                   for h, e in zip(self.hyps, self.examples, strict=True))
        return hits / max(total, 1)

    def module_counts(self) -> dict[str, tuple[int, float]]:
        """module → (examples, exact-match accuracy)."""
        return {m: (int((self.modules == m).sum()), float(self.correct[self.modules == m].mean()))
                for m in sorted(set(self.modules))}

    def module_accuracy(self) -> dict[str, float]:
        return {m: round(acc, 6) for m, (_, acc) in self.module_counts().items()}

    def overlap(self, train: Sequence[Example]) -> dict[str, tuple[float, float, float]]:
        """module → (share of its questions seen in training, exact match on those, on the others; nan: none)."""
        seen = seen_in_training(self.examples, train)

        def acc(mask: np.ndarray) -> float:
            return float(self.correct[mask].mean()) if mask.any() else float("nan")

        return {m: (float(seen[self.modules == m].mean()), acc(seen & (self.modules == m)),
                    acc(~seen & (self.modules == m))) for m in sorted(set(self.modules))}


def question_numbers(question: str) -> tuple[str, ...]:
    """The integers of a question in order: questions of one module with the same ones ask about the same
    numbers, whatever their wording."""
    return tuple(re.findall(r"\d+", question))


def seen_in_training(examples: Sequence[Example], train: Sequence[Example]) -> np.ndarray:
    """For each example: does a training question of its module ask about the same numbers?"""
    keys = {(e.module, question_numbers(e.question)) for e in train}
    return np.array([(e.module, question_numbers(e.question)) in keys for e in examples], dtype=bool)


def overlap_table(overlap: dict[str, tuple[float, float, float]], percent: bool = True) -> list[list[str]]:
    """Rows of module, share seen, exact match on seen and on unseen questions ("-" where there are none)."""
    def cell(x: float) -> str:
        return "-" if np.isnan(x) else f"{100 * x:.2f}" if percent else f"{x:.4f}"

    return [[m, *(cell(x) for x in v)] for m, v in overlap.items()]


@dataclass
class SplitRow:
    """One split's line of the accuracy table: exact match (decoded, or teacher-forced argmax where nothing
    was decoded), teacher-forced character accuracy and loss."""

    split: str
    examples: int  # scored
    total: int  # in the split
    exact: float
    char_acc: float
    loss: float
    decoded: bool


def write_report(scored: Sequence[Scored], run: RunDir, samples: int, splits: Sequence[SplitRow] = (),
                 decoding: str = "greedy", overlap: dict[str, tuple[float, float, float]] | None = None) -> None:
    """module_acc.md (per split, per module, then the first decoded split's accuracy on questions seen and
    not seen in training), module_acc.csv (per module), samples.md (from the first decoded split) and
    plots/module_acc.png."""
    header, rows = module_table(scored)
    with (run.path / "module_acc.csv").open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    lines = [f"# Accuracy of {run.path.name}", ""]
    if splits:
        lines += [f"Exact match: the whole answer right ({decoding} decoding; * = teacher-forced argmax, which "
                  "equals greedy decoding). Char acc and loss: teacher-forced, per answer character.", "",
                  "| split | examples | exact match % | char acc % | loss |", "|---|---|---|---|---|"]
        for r in splits:
            n = str(r.examples) if r.examples == r.total else f"{r.examples} of {r.total}"
            exact = f"{100 * r.exact:.2f}{'' if r.decoded else '*'}"
            lines.append(f"| {r.split} | {n} | {exact} | {100 * r.char_acc:.2f} | {r.loss:.4f} |")
        lines.append("")
    lines += ["## Exact match per module", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if overlap:
        lines += ["", f"## Questions seen in training ({scored[0].split} split)", "",
                  "Seen: a training question of the same module has the same numbers (all integers, in order), "
                  "whatever its wording; an answer that needs memorising the number can only be right there.", "",
                  "| module | seen % | exact match % on seen | on unseen |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in overlap_table(overlap)]
    (run.path / "module_acc.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (run.path / "samples.md").write_text(samples_markdown(scored[0], samples, run.path.name), encoding="utf-8")
    plot_module_accuracy(scored, run.plots / "module_acc.png", run.path.name)


def module_table(scored: Sequence[Scored]) -> tuple[list[str], list[list[str]]]:
    """One row per module (and "all"): examples and exact-match accuracy (%) for each split."""
    header = ["module"] + [f"{s.split} {col}" for s in scored for col in ("n", "acc %")]
    counts = [s.module_counts() for s in scored]
    rows = []
    for module in sorted({m for c in counts for m in c}):
        cells = [module]
        for c in counts:
            n, acc = c.get(module, (0, float("nan")))
            cells += [str(n), f"{100 * acc:.2f}" if n else "-"]
        rows.append(cells)
    rows.append(["**all**"] + [v for s in scored for v in (str(len(s.hyps)), f"{100 * s.accuracy:.2f}")])
    return header, rows


def samples_markdown(scored: Scored, per_kind: int, title: str) -> str:
    """Up to `per_kind` right and wrong answers per module (a seeded random pick)."""
    rng = np.random.default_rng(0)
    ex, modules = scored.examples, scored.modules
    lines = [f"# Samples of {title} ({scored.split} split)", ""]
    for module in sorted(set(modules)):
        lines += [f"## {module}", ""]
        for label, want in (("right", True), ("wrong", False)):
            index = np.flatnonzero((modules == module) & (scored.correct == want))
            pick = np.sort(rng.permutation(index)[:per_kind])
            lines += [f"**{label}** ({len(index)})", ""]
            lines += [f"- Q: `{ex[i].question}`  \n  hypothesis: `{scored.hyps[i]}`  target: `{ex[i].answer}`"
                      for i in pick]
            lines.append("")
    return "\n".join(lines)


def plot_module_accuracy(scored: Sequence[Scored], path: Path, title: str = "") -> None:
    """Grouped bars: exact-match accuracy per module, one bar per split."""
    modules = sorted({m for s in scored for m in s.modules})
    fig = Figure(figsize=(max(6.0, 0.9 * len(modules) + 2), 4.2))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(scored)
    x = np.arange(len(modules))
    for i, s in enumerate(scored):
        acc = s.module_accuracy()
        ax.bar(x + i * width - 0.4 + width / 2, [100 * acc.get(m, np.nan) for m in modules], width, label=s.split)
    ax.set_xticks(x, [m.split("__")[-1] for m in modules], rotation=30, ha="right")
    ax.set_ylabel("exact-match accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    ax.set_title(title or "accuracy per module")
    save(fig, path)
