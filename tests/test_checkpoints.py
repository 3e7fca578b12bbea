"""Malformed checkpoints are refused in one line (exit 2, no traceback) by every command that reads them,
and nothing in the run directory changes."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from clitools import main_in_process, run_cli

from trainlab.engine.checkpoint import load_checkpoint, load_model_state, save_checkpoint
from trainlab.errors import CheckpointError

TINY = ["data.subset=200", "model.name=mlp", "model.hidden=[16]", "train.epochs=1", "diagnose.enabled=false",
        "train.quiet=true"]


class Payload:
    """Unpickling this runs code: it would create the marker file named in MARKER."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {os.environ['TRAINLAB_TEST_MARKER']}",))


def _state(path: Path) -> dict[str, Any]:
    return torch.load(path, weights_only=True)


def _save(path: Path, state: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    path.write_bytes(buf.getvalue())


def edit(fn: Callable[[dict[str, Any]], None]) -> Callable[[Path, Path], None]:
    def write(path: Path, other: Path) -> None:
        state = _state(path)
        fn(state)
        _save(path, state)

    return write


def _code_in_zip(path: Path, other: Path) -> None:
    state = _state(path)
    state["model"] = Payload()
    buf = io.BytesIO()
    torch.save(state, buf)
    path.write_bytes(buf.getvalue())


def _bare_pickle(path: Path, other: Path) -> None:
    path.write_bytes(pickle.dumps(Payload()))


def _other_architecture(path: Path, other: Path) -> None:
    shutil.copyfile(other, path)


def _other_moment_shape(state: dict[str, Any]) -> None:
    state["optimizer"]["state"][0]["exp_avg"] = torch.zeros(3)


def _bigger_first_layer(state: dict[str, Any]) -> None:
    key = next(iter(state["model"]))
    state["model"][key] = torch.zeros(*(n + 1 for n in state["model"][key].shape))


# case → (how the file is damaged, words the error must contain); each applies to the file a command reads
CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "zero_bytes": (lambda p, o: p.write_bytes(b""), "empty"),
    "random_bytes": (lambda p, o: p.write_bytes(os.urandom(4096)), "not a checkpoint"),
    "truncated": (lambda p, o: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "truncated"),
    "model_is_a_list": (edit(lambda s: s.update(model=list(s["model"].values()))), "no model weights"),
    "model_missing": (edit(lambda s: s.pop("model")), "no model weights"),
    "wrong_shape": (edit(_bigger_first_layer), "another architecture"),
    "other_architecture": (_other_architecture, "another architecture"),
    "newer_format": (edit(lambda s: s.update(version=99)), "newer trainlab"),
    "boolean_version": (edit(lambda s: s.update(version=True)), "no valid format version"),
    "not_ours": (edit(lambda s: s.pop("format")), "not a trainlab checkpoint"),
    "code_in_zip": (_code_in_zip, "the global posix.system"),
    "code_in_bare_pickle": (_bare_pickle, "no zip container"),
}
RESUME_CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "no_optimizer": (edit(lambda s: s.pop("optimizer")), "'optimizer' entry is missing"),
    "empty_optimizer": (edit(lambda s: s.update(optimizer={})), "no 'state' and 'param_groups'"),
    "other_param_groups": (edit(lambda s: s["optimizer"]["param_groups"].append(
        dict(s["optimizer"]["param_groups"][0]))), "parameters per group"),
    "extra_fit_field": (edit(lambda s: s["fit_state"].update(surprise=1)), "unknown fields ['surprise']"),
    "missing_fit_field": (edit(lambda s: s["fit_state"].pop("step")), "lacks ['step']"),
    "bad_rng": (edit(lambda s: s.update(rng={"torch": [1, 2, 3]})), "RNG state"),
    "rng_of_another_size": (edit(lambda s: s.update(rng={"torch": torch.zeros(7, dtype=torch.uint8)})), "RNG state"),
    "schedule_step_not_a_number": (edit(lambda s: s["schedule"].update(steps="two")), "schedule state"),
    "fractional_epoch": (edit(lambda s: s["fit_state"].update(epoch=1.5)), "epoch is 1.5, not an integer"),
    "optimizer_state_of_another_shape": (edit(_other_moment_shape), "exp_avg of parameter 0"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two finished tiny runs (`r`, and `other` with other layer sizes), trained once for the module."""
    root = tmp_path_factory.mktemp("ckpt")
    for name, extra in (("r", []), ("other", ["model.hidden=[8]"])):
        r = run_cli("run", *TINY, *extra, "--name", name, cwd=root)
        assert r.returncode == 0, r.stderr
    return root


def snapshot(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


COMMANDS = {  # command → (checkpoint it reads, argv)
    "eval": ("best", ["eval", "runs/bad"]),
    "ensemble": ("best", ["eval", "runs/r", "runs/bad"]),
    "resume": ("last", ["resume", "runs/bad"]),
    "init_from": ("best", ["run", *TINY, "train.init_from=runs/bad", "--name", "tuned"]),
}


def _cases() -> list[Any]:
    out = []
    for command in COMMANDS:
        names = list(CASES) + (list(RESUME_CASES) if command == "resume" else [])
        out += [pytest.param(command, name, id=f"{command}-{name}") for name in names]
    return out


#: cases run through a real subprocess for every command; the rest through cli.main in this process (the same
#: entry point, without paying torch's start-up per case)
SUBPROCESS = {"zero_bytes", "code_in_zip", "code_in_bare_pickle", "other_architecture", "no_optimizer"}


@pytest.mark.slow
@pytest.mark.parametrize(("command", "case"), _cases())
def test_every_command_refuses_a_malformed_checkpoint_in_one_line(runs: Path, tmp_path: Path, command: str,
                                                                  case: str, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "code-ran"
    monkeypatch.setenv("TRAINLAB_TEST_MARKER", str(marker))
    shutil.copytree(runs / "runs", tmp_path / "runs")
    bad = tmp_path / "runs" / "bad"
    shutil.copytree(tmp_path / "runs" / "r", bad)
    which, argv = COMMANDS[command]
    damage, words = {**CASES, **RESUME_CASES}[case]
    target = bad / "checkpoints" / f"{which}.pt"
    damage(target, tmp_path / "runs" / "other" / "checkpoints" / f"{which}.pt")
    before = snapshot(tmp_path / "runs")
    if case in SUBPROCESS:
        r = run_cli(*argv, cwd=tmp_path)
        code, out, err = r.returncode, r.stdout, r.stderr
    else:
        monkeypatch.chdir(tmp_path)
        code, out, err = main_in_process(monkeypatch, capsys, *argv)
    assert code == 2, err
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], err
    assert str(target) in lines[0] or target.name in lines[0]
    assert snapshot(tmp_path / "runs") == before
    assert not marker.exists() and not (tmp_path / "runs" / "tuned").exists()


def test_the_refused_global_is_named_and_the_message_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "code-ran"
    monkeypatch.setenv("TRAINLAB_TEST_MARKER", str(marker))
    path = tmp_path / "x.pt"
    save_checkpoint(path, {"model": {"w": torch.zeros(1)}})
    _code_in_zip(path, path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert "the global posix.system" in e.value.problem
    assert e.value.problem.endswith("(nothing of it was run)") and not marker.exists()


def test_a_refused_checkpoint_leaves_the_model_untouched(runs: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = _state(runs / "runs" / "r" / "checkpoints" / "last.pt")
    with pytest.raises(CheckpointError, match="another architecture"):
        load_model_state(model, state, Path("last.pt"))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_zip_that_is_not_a_torch_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(CheckpointError, match="truncated or not a checkpoint"):
        load_checkpoint(path)


def test_conv_net_weights_of_the_flat_layout_still_load(tmp_path):
    """Conv nets were one flat Sequential before the encoder/head split: a run saved then still evaluates."""
    from trainlab.config import load_config
    from trainlab.engine.checkpoint import load_weights, save_checkpoint
    from trainlab.models import build_model

    opts = load_config(None, ["model.name=convnet", "model.batch_norm=true"]).model
    torch.manual_seed(0)
    trained = build_model(opts, (1, 8, 8), 10)
    flat = {f"{i}.{k.rsplit('.', 1)[-1]}": v for i, (k, v) in enumerate(trained.state_dict().items())}  # by position
    save_checkpoint(tmp_path / "old.pt", {"model": flat, "epoch": 3})
    fresh = build_model(opts, (1, 8, 8), 10)
    assert load_weights(fresh, tmp_path / "old.pt") == 3
    pairs = zip(fresh.state_dict().values(), trained.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    shuffled = dict(reversed(list(flat.items())))  # shapes no longer agree in order: refused, not guessed
    save_checkpoint(tmp_path / "bad.pt", {"model": shuffled, "epoch": 3})
    with pytest.raises(CheckpointError, match="another architecture"):
        load_weights(build_model(opts, (1, 8, 8), 10), tmp_path / "bad.pt")
