import gzip
import hashlib
import http.server
import pickle
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.config import load_config
from trainlab.data import load_dataset
from trainlab.data import locate as locate_mod
from trainlab.data.cifar import write_batch
from trainlab.data.idx import FILES, read_idx
from trainlab.errors import DataError


def write_idx(path: Path, arr: np.ndarray, compress: bool) -> None:
    """The IDX format: 0, 0, dtype code (0x08 = ubyte), ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def make_mnist(folder: Path, n_train: int = 60, n_test: int = 20, compress: bool = True) -> tuple:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (rng.integers(0, 256, (n_train, 28, 28)), np.arange(n_train) % 10,
              rng.integers(0, 256, (n_test, 28, 28)), np.arange(n_test) % 10)
    for name, arr in zip(FILES, arrays, strict=True):
        write_idx(folder / name, arr, compress)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_load_in_the_true_format(tmp_path, compress):
    _x_tr, y_tr, x_te, y_te = make_mnist(tmp_path / "mnist", compress=compress)
    cfg = load_config(None, ["data.name=mnist", f"data.root={tmp_path}", "data.normalize=false",
                             "data.val_fraction=0", "data.download=false"])
    d = load_dataset(cfg.data)
    assert d.x_train.shape == (60, 1, 28, 28) and d.x_test.shape == (20, 1, 28, 28)
    assert d.x_test.dtype == np.uint8  # kept as stored; normalised per batch on the device
    np.testing.assert_array_equal(d.x_test[:, 0], x_te)
    np.testing.assert_array_equal(d.y_test, y_te)
    assert sorted(d.y_train.tolist()) == sorted(y_tr.tolist())


def test_uint8_statistics_are_exact_and_models_read_the_same_pixels(tmp_path):
    x_tr, *_ = make_mnist(tmp_path / "mnist")
    d = load_dataset(load_config(None, ["data.name=mnist", f"data.root={tmp_path}", "data.val_fraction=0"]).data)
    unit = x_tr / 255.0
    np.testing.assert_allclose(d.mean, [unit.mean()], rtol=1e-6)
    np.testing.assert_allclose(d.std, [unit.std()], rtol=1e-6)
    # the NumPy engine's arrays and the device's per-batch normalisation give the same model inputs
    from trainlab.data.tensors import TensorSplit
    from trainlab.scratch.data import load_arrays

    split = TensorSplit.from_arrays(d.x_train, d.y_train, torch.device("cpu"), mean=d.mean, std=d.std)
    floats = load_arrays(load_config(None, ["data.name=mnist", f"data.root={tmp_path}", "data.val_fraction=0"]).data)[0]
    assert floats.dtype == np.float32
    np.testing.assert_allclose(split.inputs(split.x).numpy(), floats, atol=1e-5)
    np.testing.assert_allclose(floats.mean(), 0, atol=1e-5)


def test_truncated_idx_is_a_data_error(tmp_path):
    make_mnist(tmp_path, compress=False)
    raw = (tmp_path / FILES[0]).read_bytes()
    (tmp_path / FILES[0]).write_bytes(raw[:-10])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / FILES[0])
    (tmp_path / FILES[1]).write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / FILES[1])


def test_missing_files_without_download_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setattr(locate_mod, "SYSTEM_DIRS", ())
    monkeypatch.setattr(locate_mod, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.delenv("TRAINLAB_DATA", raising=False)
    cfg = load_config(None, ["data.name=fashion-mnist", f"data.root={tmp_path}", "data.download=false"])
    with pytest.raises(DataError, match=r"put them in"):
        load_dataset(cfg.data)


def test_trainlab_data_env_var_is_searched(tmp_path, monkeypatch):
    make_mnist(tmp_path / "store" / "fashion-mnist")
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "store"))
    cfg = load_config(None, ["data.name=fashion-mnist", "data.download=false"])
    assert load_dataset(cfg.data).classes[0] == "T-shirt/top"


def test_download_verifies_checksums(tmp_path, monkeypatch):
    served = tmp_path / "served"
    make_mnist(served)
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **k: quiet(*a, directory=str(served), **k))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from trainlab.data import idx

        url = f"http://127.0.0.1:{server.server_port}/"
        md5s = tuple(hashlib.md5((served / f"{f}.gz").read_bytes()).hexdigest() for f in FILES)
        monkeypatch.setattr(locate_mod, "SYSTEM_DIRS", ())
        monkeypatch.setattr(locate_mod, "CACHE_DIR", tmp_path / "cache")
        monkeypatch.delenv("TRAINLAB_DATA", raising=False)
        monkeypatch.setitem(idx.URLS, "mnist", url)
        monkeypatch.setitem(idx.MD5, "mnist", md5s)
        cfg = load_config(None, ["data.name=mnist", f"data.root={tmp_path / 'dl'}"])
        assert len(load_dataset(cfg.data).y_test) == 20
        assert (tmp_path / "dl" / "mnist" / f"{FILES[0]}.gz").is_file()

        monkeypatch.setitem(idx.MD5, "mnist", ("0" * 32,) * 4)
        cfg = load_config(None, ["data.name=mnist", f"data.root={tmp_path / 'dl2'}"])
        with pytest.raises(DataError, match="checksum mismatch"):
            load_dataset(cfg.data)
        assert not list((tmp_path / "dl2" / "mnist").glob("*.gz"))  # nothing half-written kept
    finally:
        server.shutdown()


def make_cifar(folder: Path, hundred: bool = False, n: int = 20) -> None:
    rng = np.random.default_rng(0)
    sub = folder / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    sub.mkdir(parents=True)
    k = 100 if hundred else 10
    key = b"fine_labels" if hundred else b"labels"

    def batch(m: int) -> dict:
        return {b"data": rng.integers(0, 256, (m, 3072), dtype=np.uint8), key: list(np.arange(m) % k)}

    if hundred:
        write_batch(sub / "train", batch(n * 5))
        write_batch(sub / "test", batch(n))
        write_batch(sub / "meta", {b"fine_label_names": [f"c{i}".encode() for i in range(k)]})
    else:
        for i in range(1, 6):
            write_batch(sub / f"data_batch_{i}", batch(n))
        write_batch(sub / "test_batch", batch(n))
        write_batch(sub / "batches.meta", {b"label_names": [f"c{i}".encode() for i in range(k)]})


@pytest.mark.parametrize("hundred", [False, True])
def test_cifar_pickles_load(tmp_path, hundred):
    make_cifar(tmp_path / ("cifar100" if hundred else "cifar10"), hundred, n=200 if hundred else 20)
    name = "cifar100" if hundred else "cifar10"
    cfg = load_config(None, [f"data.name={name}", f"data.root={tmp_path}", "data.val_fraction=0",
                             "data.download=false", "data.normalize=false"])
    d = load_dataset(cfg.data)
    assert d.input_shape == (3, 32, 32) and d.num_classes == (100 if hundred else 10)
    assert d.x_train.min() >= 0 and d.x_train.max() <= 1 and len(d.y_test) == (200 if hundred else 20)


def test_cifar_pickle_that_would_run_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    make_cifar(tmp_path / "cifar10")
    (tmp_path / "cifar10" / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    cfg = load_config(None, ["data.name=cifar10", f"data.root={tmp_path}", "data.download=false"])
    with pytest.raises(DataError, match="forbidden global"):
        load_dataset(cfg.data)


def test_split_subset_and_normalisation():
    cfg = load_config(None, ["data.val_fraction=0.2", "data.subset=500"])
    d = load_dataset(cfg.data)
    assert len(d.y_train) + len(d.y_val) == 500 and len(d.y_val) == 100
    assert set(np.bincount(d.y_val)) <= {9, 10, 11}  # stratified: ~10 per class
    assert abs(d.x_train.mean()) < 1e-4 and abs(d.x_train.std() - 1) < 1e-3
    assert abs(d.x_test.mean()) > 1e-4  # test is normalised with train statistics, not its own
    d2 = load_dataset(cfg.data)
    np.testing.assert_array_equal(d.y_val, d2.y_val)


@pytest.mark.parametrize("kind", ["moons", "circles", "spirals", "xor", "gaussians"])
def test_toy_sets(kind):
    d = load_dataset(load_config(None, ["data.name=toy", f"data.toy.kind={kind}", "data.toy.samples=300"]).data)
    assert d.input_shape == (2,) and len(d.y_train) + len(d.y_val) + len(d.y_test) == 300
