"""Batched augmentation on the training device: one call per batch, no per-sample Python.

Each op draws its randomness from a torch.Generator the trainer seeds per epoch, so a
resumed run replays exactly the same crops, flips and cutouts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Apply the configured ops in the usual order: crop, flip, cutout."""
    if x.ndim != 4:
        return x
    if cfg.crop_padding > 0:
        x = random_crop(x, cfg.crop_padding, gen)
    if cfg.flip:
        x = random_flip(x, gen)
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
