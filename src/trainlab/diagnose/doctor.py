"""The doctor: rules that read a run's diagnosis records and say what is wrong and what usually helps.

Each rule is a function of the evidence that returns a Finding or None; RULES lists them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Gradients shrinking 1000× from the last weight layer back to the first: the first layers barely learn.
VANISHING_RATIO = 1e-3
# A first-layer mean |grad| below Adam's eps (1e-8) moves its weights by about lr·|grad|/eps: not at all.
# This also catches nets whose forward signal dies: every weight gradient is then tiny (it scales with the
# layer's input), so the first/last ratio looks normal while nothing learns.
GRAD_FLOOR = 1e-8
# On a mean-reduced loss a healthy weight gradient stays well below 1 per element; above 100 a step of
# any usual learning rate overshoots. (No ratio test: auxiliary heads or a dying forward signal make the
# last layer's gradient tiny and the first/last ratio huge without anything exploding.)
EXPLODING_MAX_ABS = 1e2
# Half a block's units never active on a fixed batch: that capacity is lost and gets no gradient back.
DEAD_FRACTION = 0.5
# A train loss within 2% of ln K is what predicting the uniform distribution over K classes costs.
CHANCE_TOLERANCE = 0.02


@dataclass
class Evidence:
    """The last epoch's records: gradient flow rows, activation rows, metrics row, and K classes."""

    gradflow: list[dict[str, Any]] = field(default_factory=list)
    activations: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    num_classes: int | None = None

    def grad_ratio(self) -> float | None:
        """First-layer / last-layer mean |grad|."""
        if len(self.gradflow) < 2:
            return None
        first, last = self.gradflow[0]["mean_abs_grad"], self.gradflow[-1]["mean_abs_grad"]
        if last > 0:
            return first / last
        return math.inf if first > 0 else None

    def activation_span(self) -> str:
        """' (activation std <first block> → <last block>)', or '' without activation records."""
        if len(self.activations) < 2:
            return ""
        return f" (activation std {self.activations[0]['std']:.1e} → {self.activations[-1]['std']:.1e})"


@dataclass
class Finding:
    rule: str
    message: str
    value: float


Rule = Callable[[Evidence], Finding | None]


def vanishing_gradients(ev: Evidence) -> Finding | None:
    ratio = ev.grad_ratio()
    if ratio is None:
        return None
    first = ev.gradflow[0]["mean_abs_grad"]
    if ratio < VANISHING_RATIO:
        detail, value = f"first/last layer mean |grad| ratio {ratio:.1e} (< {VANISHING_RATIO:g})", ratio
    elif first < GRAD_FLOOR:
        detail = (f"first-layer mean |grad| {first:.1e} (< {GRAD_FLOOR:g}); the forward signal dies too, so every "
                  f"layer's gradient is tiny and the first/last ratio ({ratio:.1e}) hides it{ev.activation_span()}")
        value = first
    else:
        return None
    return Finding("vanishing_gradients", f"vanishing gradients: {detail} → try batch norm (vgg: "
                   "model.block_type=bn), residual connections (model.block_type=residual or bn_residual), "
                   "or a shallower net", value)


def exploding_gradients(ev: Evidence) -> Finding | None:
    bad = [r for r in ev.gradflow if not r["max_abs_grad"] <= EXPLODING_MAX_ABS]  # NaN fails <= too
    if not bad:
        return None
    worst = max(bad, key=lambda r: r["max_abs_grad"] if math.isfinite(r["max_abs_grad"]) else math.inf)
    top = worst["max_abs_grad"]
    return Finding("exploding_gradients", f"exploding gradients: max |grad| {top:.1e} in {worst['layer']} (> "
                   f"{EXPLODING_MAX_ABS:g}) → lower the learning rate (optim.lr), clip gradients "
                   "(train.grad_clip=1), or add batch norm", top)


def dead_units(ev: Evidence) -> Finding | None:
    worst = max(ev.activations, key=lambda r: r["dead_fraction"], default=None)
    if worst is None or worst["dead_fraction"] < DEAD_FRACTION:
        return None
    share = worst["dead_fraction"]
    return Finding("dead_units", f"dead units: {share:.0%} of the units of {worst['block']} never activate on a fixed "
                   f"batch (≥ {DEAD_FRACTION:.0%}) → lower the learning rate, use leaky ReLU, or add batch norm", share)


def loss_at_chance(ev: Evidence) -> Finding | None:
    loss = ev.metrics.get("train_loss")
    if not ev.num_classes or ev.num_classes < 2 or not isinstance(loss, float):
        return None
    chance = math.log(ev.num_classes)
    if abs(loss - chance) > CHANCE_TOLERANCE * chance:
        return None
    return Finding("loss_at_chance",
                   f"loss stuck at chance: train loss {loss:.4f} ≈ ln {ev.num_classes} = {chance:.4f} → nothing is "
                   "learnt: see the gradient findings, check the learning rate and the labels", loss)


RULES: list[Rule] = [vanishing_gradients, exploding_gradients, dead_units, loss_at_chance]


def examine(ev: Evidence) -> list[Finding]:
    """Every finding the rules make, in rule order."""
    return [f for rule in RULES if (f := rule(ev)) is not None]
