"""A study: named variants of one base config, each run over the same seeds, compared in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trainlab.registry import Registry


@dataclass(frozen=True)
class Reference:
    """A published figure a variant is compared with: the summary metric, its value there, and what differs."""

    variant: str
    metric: str  # a summary.json field, e.g. test_acc or test_nll
    value: float
    note: str = ""


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    base: tuple[str, ...]  # overrides every variant shares
    variants: dict[str, tuple[str, ...]]  # variant → its own overrides
    # picks data.name when the study runs (a variant that names its own data wins)
    data: Callable[[], str] = field(default=lambda: "digits")
    references: tuple[Reference, ...] = ()  # published figures to set beside the variants' own
    # overrides of a run trained first (out/<study>/source, reused when complete) that every variant starts
    # from (train.init_from); on top of the base and the caller's overrides; none: no such run
    source: tuple[str, ...] = ()

    def overrides(self, variant: str, extra: tuple[str, ...] = (), start: tuple[str, ...] = ()) -> list[str]:
        """Base, the dataset, `start` (where the weights come from), the variant's overrides, then `extra` (the
        caller's, which win)."""
        return [*self.base, f"data.name={self.data()}", *start, *self.variants[variant], *extra]

    def source_overrides(self, extra: tuple[str, ...] = ()) -> list[str]:
        """The source run's: base, the dataset, the caller's overrides, then the source's own (which win)."""
        return [*self.base, f"data.name={self.data()}", *extra, *self.source]


STUDIES: Registry[Study] = Registry("study")
