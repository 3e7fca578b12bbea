"""One file → one uint8 image (C, H, W) of the target size, or the reason it is rejected (Pillow + NumPy only).

Mode handling: RGBA, LA, PA and P with transparency are composited on white; P, CMYK and the other colour
modes are converted to RGB; greyscale modes (1, L, LA, I, I;16, F) are rejected or converted to RGB by the
`grey` choice, 16-bit values scaled to 8 bits (not clipped). EXIF orientation is applied first.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
WHITE = (255, 255, 255, 255)


@dataclass(frozen=True)
class CleanOptions:
    """How every image is decoded: output side, resize rule, greyscale rule, decompression-bomb limit."""

    size: int = 256
    resize: Literal["shorter", "fixed"] = "shorter"
    grey: Literal["convert", "skip"] = "convert"
    max_pixels: int = Image.MAX_IMAGE_PIXELS or 89_478_485


@dataclass(frozen=True)
class Rejected:
    """Why a file is left out: a short kind (stable, for counting) and a readable reason."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Decoded:
    """A kept image (3, size, size) uint8, its source size and mode."""

    pixels: np.ndarray
    width: int
    height: int
    mode: str


def decode(path: Path, opts: CleanOptions) -> Decoded | Rejected:
    """Read, check and convert one file. Never raises for a bad file: every failure is a `Rejected`."""
    try:
        if path.stat().st_size == 0:
            return Rejected("empty", "empty file (0 bytes)")
        with warnings.catch_warnings(), _pixel_limit(opts.max_pixels):
            # Pillow warns above MAX_IMAGE_PIXELS and raises only above twice that: both are refused here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                mode, (w, h) = im.mode, im.size
                if mode in GREY_MODES and opts.grey == "skip":
                    return Rejected("greyscale", f"greyscale ({mode}; --grey skip)")
                # Speed: a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) still ≥ size on both sides.
                im.draft(None, (opts.size, opts.size))
                im.load()
                rgb = _to_rgb(ImageOps.exif_transpose(im))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        return Rejected("bomb", f"decompression bomb refused ({e}); --max-pixels sets the limit")
    except UnidentifiedImageError:
        return Rejected("not_image", "not an image Pillow can read")
    except ValueError as e:
        return Rejected("mode", f"cannot convert to RGB ({e})")
    except (OSError, SyntaxError, EOFError) as e:  # Pillow signals corrupt data with all three
        return Rejected("corrupt", f"truncated or corrupt ({e})")
    pixels = np.asarray(_resize(rgb, opts), np.uint8).transpose(2, 0, 1)
    return Decoded(np.ascontiguousarray(pixels), w, h, mode)


@contextmanager
def _pixel_limit(limit: int) -> Iterator[None]:
    """Pillow's decompression-bomb limit set to `limit` for one file (a module global of Pillow's)."""
    old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB: alpha composited on white, 16/32-bit scaled, palettes expanded."""
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ALPHA_MODES:
        im = Image.alpha_composite(Image.new("RGBA", im.size, WHITE), im.convert("RGBA"))
    elif im.mode.startswith("I") or im.mode == "F":
        im = Image.fromarray(_to_8bit(np.asarray(im), im.mode))
    return im.convert("RGB")


def _to_8bit(a: np.ndarray, mode: str) -> np.ndarray:
    """16-bit (I;16*, and I as PNG/TIFF decoders use it) → 0..255 by /257; float F: [0, 1] → ×255, else clipped."""
    if mode == "F":
        scale = 255.0 if float(np.nanmax(a, initial=0)) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(a) * scale, 0, 255).round().astype(np.uint8)
    return (np.clip(a.astype(np.float64), 0, 65535) / 257).round().astype(np.uint8)


def _resize(im: Image.Image, opts: CleanOptions) -> Image.Image:
    """LANCZOS to size×size: `fixed` stretches, `shorter` scales the shorter side to size and centre-crops."""
    s = opts.size
    if opts.resize == "fixed":
        return im.resize((s, s), Image.Resampling.LANCZOS)
    w, h = im.size
    scale = s / min(w, h)
    nw, nh = max(s, round(w * scale)), max(s, round(h * scale))
    left, top = (nw - s) // 2, (nh - s) // 2
    # reducing box: the crop is taken in source coordinates, so only the kept part is resampled
    box = (left / scale, top / scale, (left + s) / scale, (top + s) / scale)
    return im.resize((s, s), Image.Resampling.LANCZOS, box=box)
