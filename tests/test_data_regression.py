"""Targets other than one class label: regression sources, coloured images, multi-head splits, their figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from sklearn.model_selection import train_test_split

from trainlab.config import load_config
from trainlab.data import DATASETS, RawData, load_dataset, target_stats
from trainlab.data.base import prepare
from trainlab.data.colors import PALETTE, colorize
from trainlab.errors import ConfigError, DataError
from trainlab.report.figures import plot_decision_boundary, plot_regression_bands


def data_cfg(*overrides: str):
    return load_config(None, list(overrides)).data


# --- regression sources -----------------------------------------------------------------------------------------


def test_diabetes_is_a_seeded_float_regression_set():
    d = load_dataset(data_cfg("data.name=diabetes", "data.val_fraction=0"))
    assert d.target_kind == "real" and d.targets == ["progression"] and d.classes == [] and d.num_classes == 0
    assert d.x_train.shape == (353, 10) and d.x_test.shape == (89, 10) and d.y_train.shape == (353,)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.float32 and d.y_test.dtype == np.float32
    again = load_dataset(data_cfg("data.name=diabetes", "data.val_fraction=0"))
    np.testing.assert_array_equal(d.y_test, again.y_test)
    other = load_dataset(data_cfg("data.name=diabetes", "data.val_fraction=0", "data.split_seed=1"))
    assert not np.array_equal(d.y_test, other.y_test)


def test_target_stats_per_column():
    mean, std = target_stats(np.array([[1.0, 5.0], [3.0, 5.0]], np.float32))
    np.testing.assert_allclose(mean, [2.0, 5.0])
    np.testing.assert_allclose(std, [1.0, 1.0])  # the constant column's std 0 becomes 1
    mean, std = target_stats(np.array([0.0, 2.0], np.float32))
    assert mean.shape == () and mean.dtype == np.float32 and float(std) == 1.0


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_one_or_several_targets(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 50), rng.integers(0, 100, 50)
    lines = ["a, b, y, z", *(f"{i},{j},{2 * i + j},{i - j}" for i, j in zip(a, b, strict=True))]
    path = write_csv(tmp_path / "f.csv", "\n".join(lines) + "\n\n")
    plain = ("data.name=csv", f"data.path={path}", "data.normalize=false", "data.val_fraction=0")
    d = load_dataset(data_cfg(*plain, "data.target=y"))
    assert d.target_kind == "real" and d.targets == ["y"]
    assert d.x_train.shape == (40, 3) and d.x_test.shape == (10, 3) and d.y_train.shape == (40,)
    x, y = np.concatenate([d.x_train, d.x_test]), np.concatenate([d.y_train, d.y_test])
    np.testing.assert_array_equal(y, 2 * x[:, 0] + x[:, 1])  # the features are a, b, z in file order
    np.testing.assert_array_equal(x[:, 2], x[:, 0] - x[:, 1])
    d = load_dataset(data_cfg(*plain, "data.target=[y, z]"))
    assert d.targets == ["y", "z"] and d.y_train.shape == (40, 2) and d.x_train.shape == (40, 2)
    np.testing.assert_array_equal(d.y_train, np.stack([2 * d.x_train[:, 0] + d.x_train[:, 1],
                                                       d.x_train[:, 0] - d.x_train[:, 1]], axis=1))


@pytest.mark.parametrize(("text", "target", "needle"), [
    (None, "y", r"not found — check data\.path"),
    ("", "y", "is empty"),
    ("a,y\n1,2\n3,4\n", "yy", r"no column 'yy' — did you mean 'y'\? choose one of: a, y"),
    ("a,y\n1,2\n3,x4\n", "y", r"line 3, column 'y': 'x4' is not a finite number"),
    ("a,y\n1,2\n,4\n", "y", r"line 3, column 'a': '' is not"),
    ("a,y\n1,2\n3,nan\n", "y", "'nan' is not a finite number"),
    ("a,y\n1,2\n3\n", "y", "line 3 has 1 fields, the header 2"),
    ("y\n1\n2\n", "y", "no feature columns"),
    ("a,y\n1,2\n", "y", "1 data row"),
    ("a,a,y\n1,2,3\n4,5,6\n", "y", "duplicate column names"),
])
def test_csv_errors_are_one_line(tmp_path, text, target, needle):
    path = tmp_path / "f.csv" if text is None else write_csv(tmp_path / "f.csv", text)
    with pytest.raises(DataError, match=needle) as e:
        load_dataset(data_cfg("data.name=csv", f"data.path={path}", f"data.target={target}"))
    assert "\n" not in str(e.value)


def test_csv_without_path_or_target_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"needs data\.path"):
        load_dataset(data_cfg("data.name=csv", "data.target=y"))
    path = write_csv(tmp_path / "f.csv", "a,y\n1,2\n3,4\n")
    with pytest.raises(ConfigError, match=r"set data\.target to one of: a, y"):
        load_dataset(data_cfg("data.name=csv", f"data.path={path}"))


def test_hetero_noise_grows_with_x():
    d = load_dataset(data_cfg("data.name=toy", "data.toy.kind=hetero", "data.toy.samples=3000",
                              "data.normalize=false"))
    assert d.target_kind == "real" and d.input_shape == (1,) and d.y_train.dtype == np.float32
    x, y = d.x_train[:, 0], d.y_train
    assert x.min() >= 0 and x.max() <= 1
    residual = y - np.sin(2 * np.pi * x)
    low, high = residual[x < 1 / 3].std(), residual[x > 2 / 3].std()
    assert high > 2 * low
    quiet = load_dataset(data_cfg("data.name=toy", "data.toy.kind=hetero", "data.toy.noise=0", "data.normalize=false"))
    np.testing.assert_allclose(quiet.y_train, np.sin(2 * np.pi * quiet.x_train[:, 0]), atol=1e-5)


# --- coloured images ----------------------------------------------------------------------------------------------


def test_colours_are_deterministic_per_seed():
    a = load_dataset(data_cfg("data.colors=4", "data.split_seed=1"))
    b = load_dataset(data_cfg("data.colors=4", "data.split_seed=1"))
    c = load_dataset(data_cfg("data.colors=4", "data.split_seed=2"))
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(name)[0], b.split(name)[0])
        np.testing.assert_array_equal(a.split(name)[1], b.split(name)[1])
    assert not np.array_equal(a.y_test[:, 1], c.y_test[:, 1])  # same test images, other colours
    np.testing.assert_array_equal(a.y_test[:, 0], c.y_test[:, 0])


def test_colour_labels_and_tints():
    d = load_dataset(data_cfg("data.colors=5", "data.normalize=false", "data.val_fraction=0"))
    names = list(PALETTE)[:5]
    assert d.target_kind == "multihead" and d.heads == {"class": [str(i) for i in range(10)], "colour": names}
    assert d.input_shape == (3, 8, 8) and d.y_train.shape == (len(d.x_train), 2) and d.y_train.dtype == np.int64
    for y in (d.y_train, d.y_test):
        assert set(y[:, 1]) == set(range(5)) and set(y[:, 0]) == set(range(10))
    rgb = np.stack([d.x_train[d.y_train[:, 1] == k].mean(axis=(0, 2, 3)) for k in range(5)])
    chroma = rgb / rgb.sum(axis=1, keepdims=True)
    gaps = np.abs(chroma[:, None] - chroma[None]).sum(axis=2)[np.triu_indices(5, 1)]
    assert gaps.min() > 0.05  # every pair of tints differs in colour, not only in brightness


def test_tint_is_gray_times_colour():
    gray = np.random.default_rng(0).uniform(0, 1, (20, 1, 4, 4)).astype(np.float32)
    raw = RawData(gray, np.arange(20) % 2, gray[:6], np.arange(6) % 2, ["a", "b"])
    out = colorize(raw, 3, seed=0)
    rgb = np.array([PALETTE[n] for n in out.heads["colour"]], np.float32) / 255
    np.testing.assert_allclose(out.x_train, gray * rgb[out.y_train[:, 1]][:, :, None, None])
    np.testing.assert_array_equal(out.y_train[:, 0], raw.y_train)
    assert np.bincount(out.y_train[:, 1]).tolist() == [7, 7, 6]  # balanced


def test_colours_refused_where_they_do_not_apply():
    rgb_images = np.zeros((10, 3, 32, 32), np.float32)
    with pytest.raises(ConfigError, match=r"single-channel .* \(3, 32, 32\)"):
        colorize(RawData(rgb_images, np.arange(10) % 2, rgb_images, np.arange(10) % 2, ["a", "b"]), 3, 0)
    for n in (1, len(PALETTE) + 1):
        with pytest.raises(ConfigError, match="out of range"):
            load_dataset(data_cfg(f"data.colors={n}"))
    with pytest.raises(ConfigError, match="single-channel"):
        load_dataset(data_cfg("data.name=toy", "data.colors=2"))


# --- prepare ------------------------------------------------------------------------------------------------------


def test_class_splits_are_the_stratified_ones_of_before():
    cfg = data_cfg("data.subset=600", "data.val_fraction=0.2", "data.split_seed=7")
    raw = DATASETS.get("digits")(cfg)
    x, _, y, _ = train_test_split(raw.x_train, raw.y_train, train_size=600, stratify=raw.y_train, random_state=7)
    x, x_val, y, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=7)
    d = load_dataset(cfg)
    np.testing.assert_array_equal(d.y_train, y)
    np.testing.assert_array_equal(d.y_val, y_val)
    mean, std = x.mean(axis=(0, 2, 3), dtype=np.float64), x.std(axis=(0, 2, 3), dtype=np.float64) + 1e-8
    np.testing.assert_array_equal(d.x_val, ((x_val - mean.astype(np.float32)) / std.astype(np.float32)))
    assert d.target_kind == "class" and d.y_train.dtype == np.int64 and len(d.y_val) == 120
    assert set(np.bincount(d.y_val)) <= {11, 12, 13}


def heads_raw(n: int, colours: int, seed: int = 0) -> RawData:
    rng = np.random.default_rng(seed)
    y = np.stack([np.arange(n) % 2, rng.permutation(np.arange(n) % colours)], axis=1)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return RawData(x, y, x[:10], y[:10], heads={"a": ["0", "1"], "b": [str(i) for i in range(colours)]})


def test_multihead_split_stratifies_on_the_joint_label():
    d = prepare("h", heads_raw(400, 2), data_cfg("data.val_fraction=0.1"))
    joint = d.y_val[:, 0] * 2 + d.y_val[:, 1]
    assert np.bincount(joint, minlength=4).tolist() == [10, 10, 10, 10]
    assert d.target_kind == "multihead" and d.y_val.dtype == np.int64


def test_multihead_split_falls_back_to_the_first_head():
    raw = heads_raw(200, 20)  # 40 joint labels cannot all reach a 20-example validation split
    d = prepare("h", raw, data_cfg("data.val_fraction=0.1"))
    _, _, _, y_val = train_test_split(raw.x_train, raw.y_train, test_size=0.1, stratify=raw.y_train[:, 0],
                                      random_state=0)
    np.testing.assert_array_equal(d.y_val, y_val)


def test_regression_split_is_plain_and_targets_stay_raw():
    x = np.arange(100, dtype=np.float32)[:, None]
    raw = RawData(x, x[:, 0] * 10, x[:5], x[:5, 0] * 10, targets=["t"])
    d = prepare("r", raw, data_cfg("data.val_fraction=0.2", "data.split_seed=3"))
    _, _, _, y_val = train_test_split(raw.x_train, raw.y_train, test_size=0.2, random_state=3)
    np.testing.assert_array_equal(d.y_val, y_val)
    np.testing.assert_array_equal(d.y_test, raw.y_test)  # targets are not standardised
    assert abs(d.x_train.mean()) < 1e-4


def test_raw_data_targets_must_fit_their_names():
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match="exactly one"):
        RawData(x, np.zeros(4), x, np.zeros(4))
    with pytest.raises(ValueError, match="exactly one"):
        RawData(x, np.zeros(4), x, np.zeros(4), ["a"], targets=["t"])
    with pytest.raises(ValueError, match="do not fit"):
        RawData(x, np.zeros((4, 2)), x, np.zeros((4, 2)), targets=["t"])
    with pytest.raises(ValueError, match="do not fit"):
        RawData(x, np.zeros((4, 3), np.int64), x, np.zeros((4, 3), np.int64), heads={"a": ["0"], "b": ["0"]})
    assert RawData(x, np.zeros((4, 1)), x, np.zeros((4, 1)), targets=["t"]).target_kind == "real"


# --- figures ------------------------------------------------------------------------------------------------------


def strip_colours(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB of the left and right middle of the image (inside the axes, away from the corner points)."""
    img = imread(path)[..., :3]
    h, w = img.shape[:2]
    rows = slice(int(0.4 * h), int(0.6 * h))
    left, right = img[rows, int(0.25 * w):int(0.35 * w)], img[rows, int(0.7 * w):int(0.8 * w)]
    return left.mean(axis=(0, 1)), right.mean(axis=(0, 1))


def test_decision_boundary_shows_the_prediction(tmp_path):
    x = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float32)
    y = np.array([0, 0, 1, 1])
    seen: list[np.ndarray] = []

    def split_at_zero(grid: np.ndarray) -> np.ndarray:
        seen.append(grid)
        return (grid[:, 0] > 0).astype(np.int64)

    plot_decision_boundary(split_at_zero, x, y, tmp_path / "split.png", classes=["left", "right"], title="t")
    assert seen[0].dtype == np.float32 and seen[0].shape == (200 * 200, 2)
    assert seen[0][:, 0].min() < -1 and seen[0][:, 0].max() > 1  # the grid has a margin around the data
    left, right = strip_colours(tmp_path / "split.png")
    assert np.abs(left - right).sum() > 0.1
    probabilities = lambda g: np.stack([g[:, 0] <= 0, g[:, 0] > 0], axis=1).astype(np.float32)  # noqa: E731
    plot_decision_boundary(probabilities, x, y, tmp_path / "proba.png")
    np.testing.assert_allclose(np.concatenate(strip_colours(tmp_path / "proba.png")), np.concatenate([left, right]),
                               atol=0.02)
    plot_decision_boundary(lambda g: np.zeros(len(g), np.int64), x, y, tmp_path / "flat.png")
    left, right = strip_colours(tmp_path / "flat.png")
    np.testing.assert_allclose(left, right, atol=0.02)


def test_regression_bands_are_written(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (100, 1))
    mean = np.sin(2 * np.pi * x[:, 0])
    plot_regression_bands(x, mean + rng.normal(0, 0.1, 100), mean, np.full(100, 0.1), tmp_path / "r" / "bands.png")
    path = tmp_path / "r" / "bands.png"
    assert path.stat().st_size > 1000 and imread(path).shape[2] in (3, 4)
