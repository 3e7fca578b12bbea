"""Image folders: `trainlab data images` on a dirty folder made here (every kind of bad file), the uint8 cache
behind data.name=folder, the batched resized crop and colour jitter, and the CLI end to end."""

from __future__ import annotations

import csv
import hashlib
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from clitools import main_in_process
from PIL import Image

from trainlab.config.schema import AugmentConfig, DataConfig
from trainlab.data import load_dataset
from trainlab.data.augment import augment, color_jitter, random_resized_crop
from trainlab.data.folder.clean import clean
from trainlab.data.folder.decode import CleanOptions, Decoded, Rejected, decode
from trainlab.data.folder.split import parse_fractions, stratified_split
from trainlab.data.tensors import TensorSplit
from trainlab.errors import UserError

SIZE = 16
SPLIT = (0.6, 0.2, 0.2)
REJECTED = {  # file → kind, as rejected.csv must list them
    "kitchen/truncated.jpg": "corrupt",
    "kitchen/zero.jpg": "empty",
    "kitchen/notes.jpg": "not_image",
    "bedroom/bomb.png": "bomb",
    "stray.png": "no_class",
}
GREY = ["bedroom/grey.jpg", "bedroom/la.png", "bedroom/sixteen.png", "single/only.png"]  # greyscale sources


def solid(mode: str, color, size=(40, 30)) -> Image.Image:
    return Image.new(mode, size, color)


def noise(rng: np.random.Generator, h: int, w: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def bomb_png(path: Path, side: int = 20_000) -> None:
    """A PNG header claiming side×side pixels (400 M, over Pillow's limit) around a tiny body: refused at open."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def make_dirty_folder(root: Path) -> Path:
    """Three real classes (one with a non-ASCII name), a class of one image, an empty class, and every bad file."""
    rng = np.random.default_rng(0)
    src = root / "src"
    kitchen, bedroom, nandu = src / "kitchen", src / "bedroom", src / "ñandú"
    for d in (kitchen / "nested" / "deeper", bedroom, nandu, src / "single", src / "empty"):
        d.mkdir(parents=True)
    for i in range(6):
        noise(rng, 30 + 7 * i, 50).save(kitchen / f"k{i}.jpg")
        noise(rng, 44, 20 + 5 * i).save(bedroom / f"b{i}.png")
        noise(rng, 25, 25).save(nandu / f"n{i}.jpeg")
    noise(rng, 30, 30).save(nandu / "n6.jpeg")
    noise(rng, 60, 40).save(kitchen / "nested" / "deeper" / "deep.jpg")
    noise(rng, 20, 20).save(kitchen / "café_ü.png")
    noise(rng, 20, 20).save(kitchen / "wrong_extension.jpg", format="PNG")  # a PNG named .jpg: kept
    solid("CMYK", (0, 255, 255, 0)).save(kitchen / "cmyk.jpg")
    good = (kitchen / "k0.jpg").read_bytes()
    (kitchen / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (kitchen / "zero.jpg").write_bytes(b"")
    (kitchen / "notes.jpg").write_text("not an image\n")
    (kitchen / ".DS_Store").write_bytes(b"\0\1junk")  # hidden: not even listed
    palette = solid("P", 3)
    palette.putpalette([0, 0, 0] * 3 + [0, 128, 255] + [0, 0, 0] * 252)
    palette.save(bedroom / "palette.png")
    transparent = solid("P", 1)
    transparent.putpalette([0, 0, 0, 200, 0, 0] + [0, 0, 0] * 254)
    transparent.save(bedroom / "palette_transparent.png", transparency=1)
    solid("RGBA", (255, 0, 0, 0)).save(bedroom / "rgba.png")  # fully transparent red: white on white
    solid("RGBA", (0, 0, 0, 128)).save(bedroom / "rgba_half.png")  # half-transparent black: mid grey
    solid("LA", (0, 0)).save(bedroom / "la.png")
    Image.fromarray(np.full((30, 40), 128 * 257, np.uint16)).save(bedroom / "sixteen.png")  # 16-bit grey
    solid("L", 77).save(bedroom / "grey.jpg", quality=100)
    bomb_png(bedroom / "bomb.png")
    solid("RGB", (1, 2, 3)).convert("L").save(src / "single" / "only.png")
    noise(rng, 20, 20).save(src / "stray.png")
    return src


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def pixels_of(out: Path, rel: str) -> np.ndarray:
    """The cached (3, SIZE, SIZE) pixels of source file `rel`, found through the split index CSVs."""
    for split in ("train", "val", "test"):
        for row in read_csv(out / f"{split}.csv"):
            if row["file"] == rel:
                return np.load(out / f"x_{split}.npy")[int(row["row"])]
    raise AssertionError(f"{rel} is not in the cache")


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    root = tmp_path_factory.mktemp("folders")
    src = make_dirty_folder(root)
    before = tree_hashes(src)
    result = clean(src, root / "clean", CleanOptions(size=SIZE), SPLIT, seed=0, workers=1)
    return src, root / "clean", result, before


def test_bad_files_are_rejected_with_their_reason_and_the_rest_kept(dirty):
    src, out, result, _ = dirty
    rejected = {r["file"]: r for r in read_csv(out / "rejected.csv")}
    assert {f: r["kind"] for f, r in rejected.items()} == REJECTED
    assert "truncated" in rejected["kitchen/truncated.jpg"]["reason"]
    assert "decompression bomb" in rejected["bedroom/bomb.png"]["reason"]
    assert "400000000 pixels" in rejected["bedroom/bomb.png"]["reason"]
    kept = {row["file"] for s in ("train", "val", "test") for row in read_csv(out / f"{s}.csv")}
    listed = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    assert kept == listed - set(REJECTED) - {"kitchen/.DS_Store"}
    assert {"kitchen/café_ü.png", "kitchen/nested/deeper/deep.jpg", "kitchen/wrong_extension.jpg",
            "ñandú/n0.jpeg", *GREY} <= kept
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats == result.stats and stats["kept"] == len(kept) and stats["rejected"] == len(REJECTED)
    assert stats["classes_kept"] == ["bedroom", "kitchen", "single", "ñandú"]  # the empty class is left out
    assert stats["classes"]["empty"]["note"].startswith("left out")
    assert stats["classes"]["bedroom"]["source_modes"]["I;16"] == 1
    manifest = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["image_shape"] == [3, SIZE, SIZE] and manifest["classes"] == stats["classes_kept"]


def test_modes_are_converted_to_rgb_on_white(dirty):
    _, out, _, _ = dirty
    def colour(rel: str) -> np.ndarray:
        return pixels_of(out, rel).reshape(3, -1).mean(axis=1).round()

    np.testing.assert_array_equal(colour("bedroom/rgba.png"), [255, 255, 255])  # transparent → white
    np.testing.assert_allclose(colour("bedroom/rgba_half.png"), [127, 127, 127], atol=1)  # black over white
    np.testing.assert_array_equal(colour("bedroom/la.png"), [255, 255, 255])
    np.testing.assert_array_equal(colour("bedroom/palette_transparent.png"), [255, 255, 255])
    np.testing.assert_array_equal(colour("bedroom/palette.png"), [0, 128, 255])
    np.testing.assert_array_equal(colour("bedroom/sixteen.png"), [128, 128, 128])  # scaled, not clipped to 255
    np.testing.assert_allclose(colour("bedroom/grey.jpg"), [77, 77, 77], atol=1)
    r, g, b = colour("kitchen/cmyk.jpg")
    assert r > 200 and g < 60 and b < 60  # cyan-free, magenta+yellow ink: red
    assert pixels_of(out, "kitchen/k0.jpg").dtype == np.uint8


def test_grey_skip_rejects_greyscale_and_16_bit_files(dirty, tmp_path):
    src, _, _, _ = dirty
    out = tmp_path / "colour_only"
    result = clean(src, out, CleanOptions(size=SIZE, grey="skip"), SPLIT, workers=1)
    kinds = {r["file"]: r["kind"] for r in read_csv(out / "rejected.csv")}
    assert {f for f, k in kinds.items() if k == "greyscale"} == set(GREY)
    assert "single" not in result.stats["classes_kept"]  # its only image was grey


def test_split_is_stratified_seeded_and_a_tiny_class_is_reported(dirty):
    _, out, result, _ = dirty
    classes = result.stats["classes_kept"]
    y = {s: np.load(out / f"y_{s}.npy") for s in ("train", "val", "test")}
    for k, name in enumerate(classes):
        counts = [int((y[s] == k).sum()) for s in ("train", "val", "test")]
        entry = result.stats["classes"][name]
        assert counts == [entry["train"], entry["val"], entry["test"]]
        if name == "single":
            assert counts == [1, 0, 0] and "too small" in entry["note"]
        else:  # 60/20/20 of 7 to 11 images: each split holds the class, train the most
            assert min(counts) >= 1 and counts[0] > max(counts[1:]) and abs(counts[0] / sum(counts) - 0.6) < 0.15
    labels = np.repeat(np.arange(4), [30, 20, 10, 1])
    a, small = stratified_split(labels, (0.8, 0.1, 0.1), seed=1)
    b, _ = stratified_split(labels, (0.8, 0.1, 0.1), seed=1)
    c, _ = stratified_split(labels, (0.8, 0.1, 0.1), seed=2)
    assert small == [3] and all(np.array_equal(a[s], b[s]) for s in a)
    assert not np.array_equal(a["test"], c["test"])
    assert [int((labels[a["test"]] == k).sum()) for k in range(4)] == [3, 2, 1, 0]
    assert sorted(np.concatenate(list(a.values()))) == list(range(len(labels)))


def test_source_is_never_written_and_cleaning_is_idempotent(dirty):
    src, out, _, before = dirty
    assert tree_hashes(src) == before
    written = tree_hashes(out)
    again = clean(src, out, CleanOptions(size=SIZE), SPLIT, seed=0, workers=1)
    assert again.up_to_date and tree_hashes(out) == written
    forced = clean(src, out, CleanOptions(size=SIZE), SPLIT, seed=0, workers=2, force=True)  # the process pool
    assert not forced.up_to_date and tree_hashes(out) == written  # the same bytes, whatever the workers
    assert tree_hashes(src) == before
    other = clean(src, out, CleanOptions(size=SIZE), SPLIT, seed=5, workers=1)  # options changed: rewritten
    assert not other.up_to_date and tree_hashes(out)["test.csv"] != written["test.csv"]
    clean(src, out, CleanOptions(size=SIZE), SPLIT, seed=0, workers=1)
    assert tree_hashes(out) == written


def test_refusals(dirty, tmp_path):
    src, _, _, _ = dirty
    opts = CleanOptions(size=SIZE)
    with pytest.raises(UserError, match="inside the source folder"):
        clean(src, src / "kitchen" / "out", opts, SPLIT)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(UserError, match="not a cleaned image folder"):
        clean(src, foreign, opts, SPLIT)
    assert (foreign / "thesis.tex").read_text() == "x" and len(list(foreign.iterdir())) == 1
    with pytest.raises(UserError, match="no class folders"):
        clean(src / "kitchen" / "nested" / "deeper", tmp_path / "o", opts, SPLIT)
    for bad in ("0.8,0.2", "0.5,0.5,0.5", "0,0.5,0.5", "a,b,c"):
        with pytest.raises(UserError, match="--split"):
            parse_fractions(bad)


def test_decode_limits_and_resize_rules(tmp_path):
    path = tmp_path / "wide.png"
    img = np.zeros((20, 60, 3), np.uint8)
    img[:, 20:40] = 255  # a white band in the middle third
    Image.fromarray(img).save(path)
    small = decode(path, CleanOptions(size=8, max_pixels=500))
    assert isinstance(small, Rejected) and small.kind == "bomb"
    crop = decode(path, CleanOptions(size=10, resize="shorter"))
    fixed = decode(path, CleanOptions(size=10, resize="fixed"))
    assert isinstance(crop, Decoded) and isinstance(fixed, Decoded) and crop.pixels.shape == (3, 10, 10)
    assert crop.pixels.mean() > 200 > fixed.pixels.mean()  # the centre crop is the white band; fixed squeezes all


def test_folder_dataset_is_uint8_and_normalised_per_batch(dirty):
    _, out, result, _ = dirty
    data = load_dataset(DataConfig(name="folder", path=out))
    assert data.x_train.dtype == np.uint8 and data.input_shape == (3, SIZE, SIZE)
    assert len(data.y_val) == result.stats["splits"]["val"]  # the folder's own val split, not val_fraction
    x = np.load(out / "x_train.npy").astype(np.float64) / 255
    np.testing.assert_allclose(data.mean, x.mean(axis=(0, 2, 3)), atol=1e-5)
    split = TensorSplit.from_arrays(data.x_train, data.y_train, torch.device("cpu"), mean=data.mean, std=data.std)
    assert split.x.dtype == torch.uint8
    batch = torch.cat([b for b, _ in split.batches(7)])
    expected = (x - data.mean.reshape(1, 3, 1, 1)) / data.std.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(batch.numpy(), expected, atol=1e-4)


def test_resized_crop_and_colour_jitter_are_batched_and_seeded():
    ramp = torch.linspace(0, 1, 32).repeat(8, 3, 32, 1)  # each image a left-to-right ramp
    out = random_resized_crop(ramp, 0.25, torch.Generator().manual_seed(0))
    assert out.shape == ramp.shape and out.min() >= 0 and out.max() <= 1
    spans = out[:, 0, 16, -1] - out[:, 0, 16, 0]
    assert (spans < 0.999).all() and spans.unique().numel() == 8  # every image zoomed, each its own box
    assert torch.equal(out, random_resized_crop(ramp, 0.25, torch.Generator().manual_seed(0)))
    mean, std = np.array([0.5, 0.4, 0.3], np.float32), np.array([0.2, 0.25, 0.3], np.float32)
    grey = torch.rand(16, 1, 8, 8).expand(16, 3, 8, 8)
    x = (grey - torch.from_numpy(mean).view(1, 3, 1, 1)) / torch.from_numpy(std).view(1, 3, 1, 1)
    j = color_jitter(x, 0.4, torch.Generator().manual_seed(1), (mean, std))
    pixels = j * torch.from_numpy(std).view(1, 3, 1, 1) + torch.from_numpy(mean).view(1, 3, 1, 1)
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5
    torch.testing.assert_close(pixels[:, 0], pixels[:, 2])  # a grey image stays grey (saturation, no hue)
    assert not torch.allclose(pixels, grey, atol=1e-3)
    torch.testing.assert_close(color_jitter(x, 0.0, torch.Generator(), (mean, std)), x)
    cfg = AugmentConfig(resized_crop=0.3, flip=True, color_jitter=0.3)
    a = augment(x, cfg, torch.Generator().manual_seed(3), (mean, std))
    assert torch.equal(a, augment(x, cfg, torch.Generator().manual_seed(3), (mean, std)))


@pytest.mark.slow
def test_cli_cleans_then_trains_then_ensembles(cli, tmp_path, monkeypatch, capsys):
    """`trainlab data images` and `trainlab run data.name=folder` as real commands; the errors and the ensemble
    through the same entry point in this process."""
    src = make_dirty_folder(tmp_path)
    r = cli("data", "images", "src", "--out", "clean", "--size", "12", "--split", "0.6,0.2,0.2", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "kept" in r.stdout and "decompression" not in r.stderr and "Traceback" not in r.stderr
    assert "data.name=folder data.path=clean" in r.stdout
    fast = ["data.name=folder", "data.path=clean", "model.name=convnet", "train.epochs=1", "train.batch_size=8",
            "data.augment.resized_crop=0.5", "data.augment.flip=true", "data.augment.color_jitter=0.2",
            "diagnose.enabled=false"]
    r = cli("run", *fast, "--name", "f0")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "runs/f0/summary.json").read_text())
    assert summary["status"] == "completed" and "test_acc" in summary
    monkeypatch.chdir(tmp_path)
    code, _, err = main_in_process(monkeypatch, capsys, "run", "data.name=folder", f"data.path={src}")
    assert code == 2 and "trainlab data images" in err and len(err.strip().splitlines()) == 1
    code, _, _ = main_in_process(monkeypatch, capsys, "run", *fast, "train.seed=1",
                                 "--name", "f1")
    assert code == 0
    code, out, err = main_in_process(monkeypatch, capsys, "eval", "runs/f0", "runs/f1")
    assert code == 0, err
    assert "member f0" in out and "member f1" in out and "ensemble [test, best]" in out
    code, out, err = main_in_process(monkeypatch, capsys, "data", "images", "src", "--out", "clean", "--size", "12",
                                     "--split", "0.6,0.2,0.2")
    assert code == 0 and "up to date" in out


@pytest.mark.slow
def test_a_folder_run_with_every_augmentation_resumes_bit_for_bit(dirty, tmp_path):
    import trainlab
    from trainlab.config import load_config
    from trainlab.engine import Callback

    class StopAfterFirst(Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 2:
                raise KeyboardInterrupt

    _, out, _, _ = dirty
    cfg = load_config(None, ["data.name=folder", f"data.path={out}", "model.name=convnet", "model.filters=[4]",
                             "model.hidden=[8]", "model.dropout=0.2", "train.epochs=3", "train.batch_size=8",
                             "train.quiet=true", "diagnose.enabled=false", "data.augment.resized_crop=0.3",
                             "data.augment.flip=true", "data.augment.color_jitter=0.3", "data.augment.cutout=4",
                             "data.augment.crop_padding=2"])
    whole = trainlab.run(cfg, name="whole", out=tmp_path)
    cut = trainlab.run(cfg, name="cut", out=tmp_path, callbacks=(StopAfterFirst(),))
    assert cut.status == "interrupted" and whole.status == "completed"
    resumed = trainlab.resume(cut.run_dir)
    a, b = (torch.load(r / "checkpoints" / "last.pt", weights_only=True)["model"]
            for r in (whole.run_dir, resumed.run_dir))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_interrupted_cleaning_is_never_trained_on_and_can_be_rerun(dirty, tmp_path):
    src, out, _, _ = dirty
    def interrupt_after_three(total):
        done = []
        def advance():
            done.append(1)
            if len(done) == 3:
                raise KeyboardInterrupt
        return advance

    target = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        clean(src, target, CleanOptions(size=SIZE), SPLIT, workers=1, progress=interrupt_after_three)
    assert not (target / ".pixels.npy").exists()
    with pytest.raises(UserError, match="did not finish"):
        load_dataset(DataConfig(name="folder", path=target))
    clean(src, target, CleanOptions(size=SIZE), SPLIT, workers=1)
    assert tree_hashes(target) == tree_hashes(out)
