"""Write Fashion-MNIST (from its IDX files on disk) as a dirty image folder: OUT/<class>/<n>.<ext>.

Every image is resized (LANCZOS) to a random side of 24 to 64 px and stretched by up to ±25% in one
direction, then saved in one of several modes and formats: RGB JPEG, greyscale PNG and JPEG, palette
PNG, RGBA PNG (opaque), LA PNG, CMYK JPEG, 16-bit PNG, and some PNGs named .jpg. About 1% of the files
are broken on purpose (truncated JPEG, zero bytes, text named .jpg) and two images are nested one
folder deeper. The result is what `trainlab data images` is made for; nothing in the loader knows it.

    python benchmarks/make_folder.py OUT [--per-class 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from trainlab.data.idx import CLASSES, read_idx
from trainlab.data.locate import find_dir

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def fashion_mnist() -> tuple[np.ndarray, np.ndarray]:
    folder = find_dir("fashion-mnist", None, [(f, f + ".gz") for f in FILES])
    if folder is None:
        raise SystemExit("Fashion-MNIST IDX files not found (data.root, $TRAINLAB_DATA, /usr/share/datasets)")
    def path(stem: str) -> Path:
        return folder / stem if (folder / stem).is_file() else folder / f"{stem}.gz"

    return read_idx(path(FILES[0])), read_idx(path(FILES[1]))


def save(img: Image.Image, base: Path, kind: int) -> None:
    """Save in the mode and format of `kind` (0..8)."""
    if kind == 0:
        img.convert("RGB").save(base.with_suffix(".jpg"), quality=90)
    elif kind == 1:
        img.save(base.with_suffix(".png"))
    elif kind == 2:
        img.save(base.with_suffix(".jpeg"), quality=85)
    elif kind == 3:
        img.convert("RGB").quantize(64).save(base.with_suffix(".png"))
    elif kind == 4:
        img.convert("RGBA").save(base.with_suffix(".png"))
    elif kind == 5:
        img.convert("LA").save(base.with_suffix(".png"))
    elif kind == 6:
        img.convert("CMYK").save(base.with_suffix(".jpg"), quality=90)
    elif kind == 7:
        Image.fromarray(np.asarray(img, np.uint16) * 257).save(base.with_suffix(".png"))
    else:
        img.save(base.with_suffix(".jpg"), format="PNG")  # a PNG with a .jpg name


def write_folder(out: Path, per_class: int, seed: int = 0) -> int:
    """Write the folder; returns the number of files."""
    x, y = fashion_mnist()
    rng = np.random.default_rng(seed)
    names = [c.replace("/", "-") for c in CLASSES["fashion-mnist"]]
    count = 0
    for k, name in enumerate(names):
        folder = out / name
        (folder / "more").mkdir(parents=True, exist_ok=True)
        for j, i in enumerate(np.flatnonzero(y == k)[:per_class]):
            side = int(rng.integers(24, 65))
            other = max(8, round(side * (1 + rng.uniform(-0.25, 0.25))))
            size = (side, other) if rng.random() < 0.5 else (other, side)
            img = Image.fromarray(x[i]).resize(size, Image.Resampling.LANCZOS)
            base = (folder / "more" if j < 2 else folder) / f"{name}_{j:05d}"
            broken = rng.random()
            if broken < 0.004:
                base.with_suffix(".jpg").write_bytes(b"")
            elif broken < 0.008:
                img.convert("RGB").save(base.with_suffix(".jpg"))
                data = base.with_suffix(".jpg").read_bytes()
                base.with_suffix(".jpg").write_bytes(data[: len(data) // 2])
            elif broken < 0.010:
                base.with_suffix(".jpg").write_text("<html>404 not found</html>\n")
            else:
                save(img, base, int(rng.integers(0, 9)))
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = write_folder(args.out, args.per_class, args.seed)
    print(f"wrote {n} files to {args.out}")


if __name__ == "__main__":
    main()
