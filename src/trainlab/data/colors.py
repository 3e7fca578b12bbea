"""Coloured images: tint single-channel images with one of N colours; the label becomes (class, colour)."""

from __future__ import annotations

import numpy as np

from trainlab.data.base import RawData
from trainlab.errors import ConfigError

PALETTE: dict[str, tuple[int, int, int]] = {  # matplotlib's tab10, as 8-bit RGB
    "blue": (31, 119, 180), "orange": (255, 127, 14), "green": (44, 160, 44), "red": (214, 39, 40),
    "purple": (148, 103, 189), "brown": (140, 86, 75), "pink": (227, 119, 194), "gray": (127, 127, 127),
    "olive": (188, 189, 34), "cyan": (23, 190, 207),
}


def colorize(raw: RawData, colors: int, seed: int) -> RawData:
    """Each image (N, 1, H, W) becomes gray × colour (N, 3, H, W); colours are balanced and shuffled per `seed`.

    Labels become int64 (N, 2) (class, colour) with heads {"class": classes, "colour": colour names}.
    """
    if not 2 <= colors <= len(PALETTE):
        raise ConfigError(f"data.colors={colors} is out of range", f"use 0 (off) or 2 to {len(PALETTE)}")
    if raw.x_train.ndim != 4 or raw.x_train.shape[1] != 1 or raw.target_kind != "class":
        shape = raw.x_train.shape[1:]
        raise ConfigError(f"data.colors needs single-channel labelled images, not inputs of shape {shape}",
                          "use it with digits, mnist or fashion-mnist, or set data.colors=0")
    names = list(PALETTE)[:colors]
    rgb = np.array([PALETTE[n] for n in names], np.float32) / 255.0
    rng = np.random.default_rng(seed)

    def tint(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        colour = rng.permutation(np.arange(len(y)) % colors)
        if x.dtype == np.uint8:  # 8-bit images (MNIST files) in [0, 1] first, as the float sources give them
            x = x.astype(np.float32) / 255.0
        return x * rgb[colour][:, :, None, None], np.stack([y, colour], axis=1).astype(np.int64)

    x_tr, y_tr = tint(raw.x_train, raw.y_train)
    x_te, y_te = tint(raw.x_test, raw.y_test)
    return RawData(x_tr, y_tr, x_te, y_te, heads={"class": raw.classes, "colour": names})
