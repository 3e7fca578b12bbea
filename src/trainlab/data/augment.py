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
    `norm` (mean, std per channel) tells colour jitter how `x` was normalised (it works on pixels in [0, 1])."""
    if x.ndim != 4:
        return x
    if cfg.resized_crop > 0:
        x = random_resized_crop(x, (cfg.resized_crop, 1.0), (3 / 4, 4 / 3), gen)
    if cfg.crop_padding > 0:
        x = random_crop(x, cfg.crop_padding, gen)
    if cfg.flip:
        x = random_flip(x, gen)
    if cfg.color_jitter > 0:
        s = cfg.color_jitter
        x = in_pixels(x, norm, lambda p: color_jitter(p, s, s, s, 0.0, 1.0, gen))
    if cfg.cutout > 0:
        x = cutout(x, cfg.cutout, gen)
    return x


def in_pixels(x: torch.Tensor, norm: tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor] | None,
              op: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`op` applied to `x` in pixel units: the normalisation `norm` = (mean, std) per channel undone before it
    (values clamped to [0, 1]) and redone after; `x` as it is when `norm` is None."""
    if norm is None:
        return op(x)
    mean, std = (torch.as_tensor(v, dtype=x.dtype, device=x.device).view(1, -1, 1, 1) for v in norm)
    return (op((x * std + mean).clamp(0, 1)) - mean) / std


# ------------------------------------------- resized crops and colour (SimCLR's views; folder augmentation)
# These act on images in [0, 1] (the caller undoes the dataset's normalisation first). Each draws one random
# parameter per image from `gen`; an op applied with probability p still draws its parameters for every image,
# so the generator's stream does not depend on which images were picked.

_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601 weights of R, G, B in a grey value


def _pick(n: int, p: float, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """(n, 1, 1, 1) booleans: True with probability p per image."""
    return (torch.rand(n, generator=gen, device=device) < p).view(n, 1, 1, 1)


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen, device=device)


def grey(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) grey values of RGB (luma) or single-channel images."""
    if x.shape[1] != 3:
        return x.mean(dim=1, keepdim=True)
    w = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def random_resized_crop(x: torch.Tensor, scale: tuple[float, float], ratio: tuple[float, float],
                        gen: torch.Generator) -> torch.Tensor:
    """A random box per image (area share in `scale`, aspect ratio in `ratio`, log-uniform) resized back to H×W
    by bilinear sampling: one `affine_grid` + `grid_sample` for the batch. Boxes are shrunk to fit the image."""
    n = x.shape[0]
    area = _uniform(n, *scale, gen, x.device)
    log_r = _uniform(n, math.log(ratio[0]), math.log(ratio[1]),
                     gen, x.device)
    r = torch.exp(log_r)
    w = torch.sqrt(area * r).clamp(max=1.0)  # box size as a share of the image's width and height
    h = torch.sqrt(area / r).clamp(max=1.0)
    cx = (1 - w) * (2 * torch.rand(n, generator=gen, device=x.device) - 1)  # centre in [-1, 1] coordinates
    cy = (1 - h) * (2 * torch.rand(n, generator=gen, device=x.device) - 1)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = w, cx, h, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x: torch.Tensor, brightness: float, contrast: float, saturation: float, hue: float, p: float,
                 gen: torch.Generator) -> torch.Tensor:
    """With probability p per image: scale brightness and contrast (factors in [1-s, 1+s]), and on colour images
    saturation and hue (a rotation of the chroma plane by up to ±hue turns), in that order; clipped to [0, 1]."""
    n, dev = x.shape[0], x.device
    b = _uniform(n, 1 - brightness, 1 + brightness, gen, dev).view(n, 1, 1, 1)
    c = _uniform(n, 1 - contrast, 1 + contrast, gen, dev).view(n, 1, 1, 1)
    s = _uniform(n, 1 - saturation, 1 + saturation, gen, dev).view(n, 1, 1, 1)
    turns = _uniform(n, -hue, hue, gen, dev)
    chosen = _pick(n, p, gen, dev)
    out = (x * b).clamp(0, 1)
    mean = grey(out).mean(dim=(2, 3), keepdim=True)
    out = ((out - mean) * c + mean).clamp(0, 1)
    if x.shape[1] == 3:
        g = grey(out)
        out = ((out - g) * s + g).clamp(0, 1)
        out = _rotate_hue(out, turns).clamp(0, 1)
    return torch.where(chosen, out, x)


def _rotate_hue(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate each RGB image's chroma about the grey axis by `turns` (N,) of a full turn (YIQ rotation)."""
    yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                       device=x.device, dtype=x.dtype)
    angle = 2 * torch.pi * turns
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(len(turns), 3, 3, device=x.device, dtype=x.dtype)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
    m = torch.linalg.inv(yiq) @ rot @ yiq  # (N, 3, 3) per-image colour transforms
    return torch.einsum("nij,njhw->nihw", m, x)


def random_grayscale(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Replace a random share p of colour images by their grey values (kept as three channels)."""
    chosen = _pick(x.shape[0], p, gen, x.device)
    return torch.where(chosen, grey(x).expand_as(x), x) if x.shape[1] == 3 else x


def gaussian_blur(x: torch.Tensor, sigma: tuple[float, float], p: float, gen: torch.Generator) -> torch.Tensor:
    """With probability p per image, a Gaussian blur of random σ in `sigma` (pixels), kernel ~10% of the image
    side (odd, at least 3): one separable grouped convolution over the whole batch, reflect-padded."""
    n, c, h, w = x.shape
    sig = _uniform(n, *sigma, gen, x.device)
    chosen = _pick(n, p, gen, x.device)
    k = max(3, (min(h, w) // 10) | 1)
    offsets = torch.arange(k, device=x.device, dtype=x.dtype) - k // 2
    kernel = torch.exp(-offsets.view(1, k) ** 2 / (2 * sig.view(n, 1) ** 2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (n·c, k)
    flat = F.pad(x.reshape(1, n * c, h, w), (k // 2, k // 2, k // 2, k // 2), mode="reflect")
    flat = F.conv2d(flat, kernel.view(n * c, 1, 1, k), groups=n * c)
    flat = F.conv2d(flat, kernel.view(n * c, 1, k, 1), groups=n * c)
    return torch.where(chosen, flat.view(n, c, h, w), x)


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
