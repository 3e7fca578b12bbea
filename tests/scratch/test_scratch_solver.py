"""Solver: learning-rate decay, best-val parameters, .npz checkpoints and exact resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainlab.errors import CheckpointError
from trainlab.scratch import FullyConnectedNet, Solver, TwoLayerNet
from trainlab.scratch.checkpoint import load_npz, save_npz

RNG = np.random.default_rng(0)
CENTRES = 3 * RNG.standard_normal((3, 5))
Y = RNG.integers(0, 3, 300)
X = CENTRES[Y] + RNG.standard_normal((300, 5))


def make_solver(model: object, tmp: Path | None, epochs: int, **kw: object) -> Solver:
    return Solver(
        model,  # type: ignore[arg-type]
        X[:240],
        Y[:240],
        X[240:],
        Y[240:],
        update_rule="adam",
        optim_config={"lr": 3e-2},
        lr_decay=0.5,
        batch_size=32,
        num_epochs=epochs,
        checkpoint_dir=tmp,
        **kw,  # type: ignore[arg-type]
    )


def bn_net() -> FullyConnectedNet:
    return FullyConnectedNet([16], 5, 3, normalization="batchnorm", seed=3)


def test_history_lr_decay_and_callback(tmp_path: Path) -> None:
    seen = []
    solver = make_solver(TwoLayerNet(5, 16, 3), tmp_path, 3, callback=seen.append)
    solver.train()
    assert [s.epoch for s in solver.history] == [1, 2, 3] and seen == solver.history
    assert [s.lr for s in solver.history] == pytest.approx([3e-2, 1.5e-2, 7.5e-3])
    assert len(solver.loss_history) == 3 * 8
    assert solver.best_val_acc == max(s.val_acc for s in solver.history) > 0.8


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    solver = make_solver(bn_net(), tmp_path, 2)
    solver.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "last.npz"]  # no temp files left
    fresh = make_solver(bn_net(), None, 2)
    fresh.load_checkpoint(tmp_path / "last.npz")
    saved = load_npz(tmp_path / "last.npz")
    for k, v in fresh.model.params.items():
        np.testing.assert_array_equal(v, saved[f"param/{k}"])
    for k, v in fresh.model.buffers.items():
        np.testing.assert_array_equal(v, saved[f"buffer/{k}"])
    assert fresh.model.buffers["running_mean1"] is fresh.model.norm_params[0]["running_mean"]  # still wired in
    assert fresh.optim_configs["W1"]["t"] == solver.optim_configs["W1"]["t"] == 16
    np.testing.assert_array_equal(fresh.optim_configs["W1"]["m"], solver.optim_configs["W1"]["m"])
    assert fresh.history == solver.history and fresh.loss_history == solver.loss_history
    assert (fresh.epoch, fresh.best_epoch, fresh.best_val_acc) == (2, solver.best_epoch, solver.best_val_acc)


def test_resume_repeats_an_uninterrupted_run(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    make_solver(bn_net(), tmp_path / "a", 3).train()
    make_solver(bn_net(), tmp_path / "b", 2).train()
    resumed = make_solver(bn_net(), tmp_path / "b", 3)
    resumed.load_checkpoint(tmp_path / "b" / "last.npz")
    resumed.train()
    a, b = load_npz(tmp_path / "a" / "last.npz"), load_npz(tmp_path / "b" / "last.npz")
    assert a.keys() == b.keys()
    for k in a.keys() - {"history/epoch_time_s"}:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_model_ends_with_the_best_epoch(tmp_path: Path) -> None:
    solver = make_solver(TwoLayerNet(5, 16, 3), tmp_path, 4)
    solver.train()
    best = load_npz(tmp_path / "best.npz")
    assert int(best["meta/epoch"]) == solver.best_epoch
    for k, v in solver.model.params.items():
        np.testing.assert_array_equal(v, best[f"param/{k}"])


def test_checkpoint_of_another_model_is_refused(tmp_path: Path) -> None:
    make_solver(TwoLayerNet(5, 16, 3), tmp_path, 1).train()
    with pytest.raises(CheckpointError, match="not a FullyConnectedNet"):
        make_solver(bn_net(), None, 1).load_checkpoint(tmp_path / "last.npz")
    with pytest.raises(CheckpointError, match="W1 differs"):
        make_solver(TwoLayerNet(5, 8, 3), None, 1).load_checkpoint(tmp_path / "last.npz")


def test_unreadable_checkpoints(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_npz(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_npz(tmp_path / "junk.npz")
    save_npz(tmp_path / "obj.npz", {"x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="unreadable"):  # pickled objects are never loaded
        load_npz(tmp_path / "obj.npz")
