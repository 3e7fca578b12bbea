"""Autoencoder: image → the same image, through `model.name`'s conv encoder and a decoder mirroring it.

Labels are never read (any image dataset trains it, whatever its targets). The model sees the normalised input;
it is scored against the input rescaled to [0, 1] per channel (the train split's min and max, as the model reads
it), so `mse` compares the decoder's values and `bce_with_logits` its logits with pixel intensities. Metrics: the
loss, the MSE of the [0, 1] reconstruction and its PSNR (10·log10(1/MSE) over the split). The encoder's weights
start a classifier with `train.init_from=RUN` (same `model.*` options).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from trainlab.config.schema import Config
from trainlab.data.base import TargetKind
from trainlab.engine.optim import build_loss
from trainlab.engine.task import Batch, Stats
from trainlab.errors import ConfigError
from trainlab.models.autoencoder import build_autoencoder
from trainlab.report.figures import plot_reconstructions
from trainlab.runs import RunDir
from trainlab.tasks.arrays import ArrayTask
from trainlab.tasks.registry import TASKS

#: how the model's output reads as a [0, 1] image, per loss
RECONSTRUCTION = {"mse": lambda out: out.clamp(0, 1), "bce_with_logits": torch.sigmoid}


@TASKS.register("autoencoder")
class AutoencoderTask(ArrayTask):
    target_kinds: tuple[TargetKind, ...] = ("class", "real", "multihead")
    metrics = ("loss", "mse", "psnr")
    monitor = "psnr"
    minimized = frozenset({"loss", "mse"})
    losses = ("mse", "bce_with_logits")
    eval_options = frozenset()

    def __init__(self, cfg: Config, device: torch.device) -> None:
        super().__init__(cfg, device)
        # the per-channel range of the train inputs as the model reads them (however the split stores them)
        lo = hi = None
        for x, _ in self.eval_batches("train"):
            low, high = x.float().amin(dim=(0, 2, 3)), x.float().amax(dim=(0, 2, 3))
            lo, hi = (low, high) if lo is None else (torch.minimum(lo, low), torch.maximum(hi, high))
        self.lo, self.span = lo.view(1, -1, 1, 1), (hi - lo).clamp_min(1e-8).view(1, -1, 1, 1)

    def setup(self) -> None:
        shape = self.data.input_shape
        if len(shape) != 3:
            raise ConfigError(f"task autoencoder needs images (C, H, W); data.name={self.cfg.data.name} gives "
                              f"shape {shape}", "pick an image dataset (digits, fashion-mnist, cifar10, folder, ...)")
        self.loss_fn = build_loss(self.cfg.loss, self.loss_name())
        self.recon = RECONSTRUCTION[self.loss_name()]

    def build_model(self, cfg: Config | None = None) -> nn.Module:
        return build_autoencoder((cfg or self.cfg).model, self.data.input_shape)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """The input rescaled to [0, 1] per channel."""
        return ((x.float() - self.lo) / self.span).clamp(0, 1)

    def step(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, Stats]:
        x = batch[0]
        out, target = model(x).float(), self.target(x)
        loss = self.loss_fn(out, target)
        n = torch.full((), len(x), device=x.device)
        err = ((self.recon(out.detach()) - target) ** 2).mean(dim=(1, 2, 3)).sum()
        return loss, {"loss": loss.detach() * n, "sq_err": err, "count": n}

    def summarize(self, sums: Stats) -> dict[str, float]:
        count = max(float(sums["count"]), 1.0)
        mse = float(sums["sq_err"]) / count
        return {"loss": float(sums["loss"]) / count, "mse": mse, "psnr": 10 * math.log10(1 / max(mse, 1e-12))}

    @torch.no_grad()
    def final_report(self, model: nn.Module, run_dir: RunDir, test: Stats) -> dict[str, Any]:
        """plots/reconstructions.png: the first `task.show` test images above their reconstructions."""
        model.eval()
        x = next(iter(self.eval_batches("test")))[0][: self.cfg.task.show]
        images, recon = self.target(x), self.recon(model(x).float())
        plot_reconstructions(images.cpu().numpy(), recon.cpu().numpy(), run_dir.plots / "reconstructions.png",
                             title=f"{run_dir.path.name}: test inputs (top) and reconstructions")
        return {}

