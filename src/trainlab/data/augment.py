"""Batched augmentation on the training device: one call per batch, no per-sample Python.

Each op draws its randomness from a torch.Generator the trainer seeds per epoch, so a
resumed run replays exactly the same crops, flips, colour changes and cutouts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from trainlab.config.schema import AugmentConfig
from trainlab.errors import UserError


def random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Zero-pad by `pad` and crop back to H×W at a random offset per image (one gather)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n, 1, 1), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n, 1, 1), generator=gen, device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # (n, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx  # (n, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def random_resized_crop(x: torch.Tensor, min_scale: float, gen: torch.Generator) -> torch.Tensor:
    """A random box per image (area share in [min_scale, 1], aspect ratio in [3/4, 4/3]) resized back to H×W.

    Batched as one affine sampling grid (bilinear, `F.grid_sample`); a box wider than the image is clipped."""
    n = x.shape[0]
    area = min_scale + (1 - min_scale) * torch.rand(n, generator=gen, device=x.device)
    log_ratio = math.log(3 / 4) + math.log(16 / 9) * torch.rand(n, generator=gen, device=x.device)
    ratio = torch.exp(log_ratio)
    bw, bh = torch.sqrt(area * ratio).clamp(max=1), torch.sqrt(area / ratio).clamp(max=1)  # shares of W and H
    cx = (2 * torch.rand(n, generator=gen, device=x.device) - 1) * (1 - bw)  # box centre, in [-1, 1] coordinates
    cy = (2 * torch.rand(n, generator=gen, device=x.device) - 1) * (1 - bh)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = bw, cx, bh, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x: torch.Tensor, strength: float, gen: torch.Generator,
                 norm: tuple[np.ndarray, np.ndarray] | None = None) -> torch.Tensor:
    """Brightness, contrast and saturation factors each drawn from [1-s, 1+s] per image, applied in pixel units.

    `norm` = (mean, std) per channel with which `x` was normalised: undone before, redone after (clamped to
    [0, 1] in between). Contrast and saturation blend with the image's luminance (ITU-R 601 weights)."""
    n, c = x.shape[:2]
    factors = 1 + strength * (2 * torch.rand(3, n, 1, 1, 1, generator=gen, device=x.device) - 1)
    mean, std = (torch.as_tensor(v, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
                 for v in (norm or (np.zeros(c), np.ones(c))))
    p = x * std + mean
    p = (p * factors[0]).clamp(0, 1)

    def luminance(p: torch.Tensor) -> torch.Tensor:
        if c != 3:
            return p.mean(dim=1, keepdim=True)
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=p.dtype, device=p.device).view(1, 3, 1, 1)
        return (p * weights).sum(dim=1, keepdim=True)

    p = ((p - luminance(p).mean(dim=(2, 3), keepdim=True)) * factors[1]
         + luminance(p).mean(dim=(2, 3), keepdim=True)).clamp(0, 1)
    if c == 3:
        grey = luminance(p)
        p = ((p - grey) * factors[2] + grey).clamp(0, 1)
    return (p - mean) / std


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left-right."""
    flip = torch.rand(x.shape[0], generator=gen, device=x.device) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)


def cutout(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Zero one size×size square per image, centred anywhere (clipped at the borders)."""
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n, 1, 1), generator=gen, device=x.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=gen, device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    half = size // 2
    hole = ((ys - cy) >= -half) & ((ys - cy) < size - half) & ((xs - cx) >= -half) & ((xs - cx) < size - half)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
            norm: tuple[np.ndarray, np.ndarray] | None = None) -> torch.Tensor:
    """Apply the configured ops in the usual order: resized crop, crop, flip, colour jitter, cutout.
    `norm` (mean, std per channel) tells colour jitter how `x` was normalised."""
    if x.ndim != 4:
        return x
    if cfg.resized_crop > 0:
        x = random_resized_crop(x, cfg.resized_crop, gen)
    if cfg.crop_padding > 0:
        x = random_crop(x, cfg.crop_padding, gen)
    if cfg.flip:
        x = random_flip(x, gen)
    if cfg.color_jitter > 0:
        x = color_jitter(x, cfg.color_jitter, gen, norm)
    if cfg.cutout > 0:
        x = cutout(x, cfg.cutout, gen)
    return x


# ----------------------------------------------------------- test-time views
def shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The image moved by (dy, dx) px, zero-filled: the crop of the zero-padded image that `random_crop` takes
    at offset (pad - dy, pad - dx), fixed for the whole batch."""
    _, _, h, w = x.shape
    p = max(abs(dy), abs(dx))
    return F.pad(x, (p, p, p, p))[:, :, p - dy:p - dy + h, p - dx:p - dx + w]


View = Callable[[torch.Tensor], torch.Tensor]


def _crops(views: list[View], pad: int) -> list[View]:
    corners = [(dy, dx) for dy in (-pad, pad) for dx in (-pad, pad)]
    return views + [lambda x, v=v, d=d: shift(v(x), *d) for v in views for d in corners]


def _flips(views: list[View], pad: int) -> list[View]:
    return views + [lambda x, v=v: v(x).flip(3) for v in views]


#: test-time augmentations in the order they compose: each multiplies the views before it
TTA_VIEWS: dict[str, Callable[[list[View], int], list[View]]] = {"crop": _crops, "flip": _flips}


def tta_views(names: Sequence[str], pad: int) -> list[View]:
    """The deterministic views test-time augmentation averages: the identity; with "crop", also the four
    shifts by ±pad px on both axes (the corner crops of the padded image); with "flip", each of those mirrored
    left-right (flip and crop: 10 views, the ten-crop of image classification)."""
    unknown = [n for n in names if n not in TTA_VIEWS] or ([] if names else [""])
    if unknown:
        raise UserError(f"unknown --tta view {unknown[0]!r}", f"use a comma-separated list of: {', '.join(TTA_VIEWS)}")
    views: list[View] = [lambda x: x]
    for name in TTA_VIEWS:
        if name in names:
            views = TTA_VIEWS[name](views, pad)
    return views
