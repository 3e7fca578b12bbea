"""SimCLR's views: each image augmented twice, independently, as one batched pass per view.

The ops (data/augment.py) act on pixel values in [0, 1]: a view undoes the dataset's normalisation, applies
random resized crop → flip → colour jitter → greyscale → blur, and normalises again. Ops that need colour
(saturation, hue, greyscale, blur) leave single-channel images alone.
"""

from __future__ import annotations

import numpy as np
import torch

from trainlab.config.tasks import ViewsConfig
from trainlab.data.augment import (
    color_jitter,
    gaussian_blur,
    in_pixels,
    random_flip,
    random_grayscale,
    random_resized_crop,
)


class ViewMaker:
    """Two views of a batch, drawn from one generator (the epoch's: a resumed run replays them exactly)."""

    def __init__(self, cfg: ViewsConfig, mean: np.ndarray, std: np.ndarray, device: torch.device) -> None:
        self.cfg = cfg
        self.norm = (torch.as_tensor(mean, dtype=torch.float32, device=device),
                     torch.as_tensor(std, dtype=torch.float32, device=device))

    def view(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        cfg = self.cfg

        def ops(v: torch.Tensor) -> torch.Tensor:
            v = random_resized_crop(v, cfg.crop_scale, cfg.crop_ratio, gen)
            if cfg.flip:
                v = random_flip(v, gen)
            if cfg.jitter > 0 or cfg.hue > 0:
                v = color_jitter(v, cfg.jitter, cfg.jitter, cfg.jitter, cfg.hue, cfg.jitter_p, gen)
            if v.shape[1] == 3:
                v = gaussian_blur(random_grayscale(v, cfg.grayscale_p, gen), cfg.blur_sigma, cfg.blur_p, gen)
            return v

        return in_pixels(x, self.norm, ops).contiguous(memory_format=_format(x))

    def pair(self, x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.view(x, gen), self.view(x, gen)


def _format(x: torch.Tensor) -> torch.memory_format:
    """Keep the batch's memory format (channels-last conv nets)."""
    return torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous() \
        else torch.contiguous_format
