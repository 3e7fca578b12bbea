"""Contrastive self-supervised pretraining (SimCLR, Chen et al. 2020) on image data.

Each image of a batch is augmented twice (views.py); the encoder — the configured model family with its last
linear layer taken off, so its output is the layer a supervised run of the same model calls its penultimate
features — maps both views to h, a projection head (linear → ReLU → linear) maps h to z, and the NT-Xent loss
asks each view to pick its partner out of the other 2N − 2 views of the batch by cosine similarity / τ.
Labels are not used in training; they stay with the data for `trainlab probe` and `trainlab cluster`.

Metrics: `loss` (NT-Xent), `top1` and `top5`: the share of views whose partner ranks first (among the first
five) of the 2N − 1 other views. Validation and test views are drawn from a fixed generator, the same every
epoch, so their figures compare across epochs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.config.schema import AugmentConfig, Config
from trainlab.engine.device import epoch_generator
from trainlab.engine.task import Batch, Stats
from trainlab.errors import ConfigError
from trainlab.models import build_model
from trainlab.models.features import strip_classifier
from trainlab.report.embeddings import plot_views
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask
from trainlab.tasks.contrastive.views import ViewMaker
from trainlab.tasks.registry import TASKS

EVAL_VIEWS_EPOCH = 0  # evaluation views come from the generator of "epoch 0", which training never uses
FIGURE_IMAGES = 8  # test images shown with their two views in plots/views.png


class ContrastiveNet(nn.Module):
    """`projection(encoder(x))`; `features(x)` is the encoder's output h (what probes and embeddings read)."""

    def __init__(self, encoder: nn.Module, width: int, hidden: int, out: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.projection = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.encoder(x))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """NT-Xent of N positive pairs (z1[i], z2[i]): the mean over the 2N views of the cross-entropy of picking
    the partner among the other 2N − 1 views, logits = cosine similarity / τ. Returns (loss, the partner's rank
    per view: 0 = ranked first)."""
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    loss = F.cross_entropy(sim, partner)
    positive = sim.gather(1, partner.view(-1, 1))
    return loss, (sim > positive).sum(dim=1)


@TASKS.register("contrastive")
class ContrastiveTask(ArrayTask):
    metrics = ("loss", "top1", "top5")
    monitor = "loss"
    minimized = frozenset({"loss"})
    losses = ("nt_xent",)
    eval_options = frozenset()

    def setup(self) -> None:
        if len(self.data.input_shape) != 3:
            raise ConfigError(f"task contrastive needs image data (C, H, W); data.name={self.cfg.data.name} has "
                              f"inputs of shape {self.data.input_shape}", "pick an image dataset (digits, "
                              "fashion-mnist, mnist, cifar10, ...)")
        if self.cfg.data.augment != AugmentConfig():
            raise ConfigError("task contrastive makes its own views; data.augment is not applied",
                              "leave data.augment unset and set task.views.* instead")
        if self.cfg.loss.name is not None:
            raise ConfigError(f"task contrastive trains with NT-Xent, not loss.name={self.cfg.loss.name}",
                              "leave loss.name unset (the temperature is task.temperature)")
        self.views = ViewMaker(self.cfg.task.views, self.data.mean, self.data.std, self.device)

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        cfg = cfg or self.cfg
        encoder, width = strip_classifier(build_model(cfg.model, self.data.input_shape, self.num_outputs))
        opts = cfg.task
        return ContrastiveNet(encoder, width, opts.projection_hidden or width, opts.projection_dim)

    def train_batches(self, gen: torch.Generator, epoch: int) -> Iterator[Batch]:
        for x, y in self.splits["train"].batches(self.cfg.train.batch_size, gen):
            yield (*self.views.pair(x, gen), y)

    def eval_batches(self, split: str) -> Iterator[Batch]:
        gen = epoch_generator(self.cfg.train.seed, EVAL_VIEWS_EPOCH, self.device)
        for x, y in self.splits[split].batches(self.cfg.train.eval_batch_size):
            yield (*self.views.pair(x, gen), y)

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        v1, v2, _ = batch
        z1, z2 = model(torch.cat([v1, v2])).chunk(2)  # one forward: batch norm sees both views
        loss, rank = nt_xent(z1, z2, self.cfg.task.temperature)
        n = torch.full((), len(rank), device=rank.device)
        return loss, {"loss": loss.detach() * n, "top1": (rank == 0).sum(), "top5": (rank < 5).sum(), "count": n}

    def summarize(self, sums: Stats) -> dict[str, float]:
        n = max(float(sums["count"]), 1.0)
        return {"loss": float(sums["loss"]) / n, "top1": float(sums["top1"]) / n, "top5": float(sums["top5"]) / n}

    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/views.png: the first test images and the two views the evaluation drew of them."""
        v1, v2, _ = next(iter(self.eval_batches("test")))
        test = self.splits["test"]
        x = test.inputs(test.x[:FIGURE_IMAGES])
        mean, std = (a.view(1, -1, 1, 1) for a in self.views.norm)
        pixels = [(name, (t[:FIGURE_IMAGES] * std + mean).float().cpu().numpy())
                  for name, t in (("image", x), ("view 1", v1), ("view 2", v2))]
        plot_views(pixels, run_dir.plots / "views.png", title=f"{run_dir.path.name}: test images and their views")
        return {}
