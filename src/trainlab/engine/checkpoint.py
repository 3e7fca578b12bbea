"""Checkpoints: plain state dicts, written atomically, loaded with weights_only=True."""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.errors import CheckpointError
from trainlab.runs.checkpoint_file import check_container
from trainlab.runs.files import atomic_write_bytes

FORMAT = "trainlab-checkpoint"
VERSION = 1


def checkpoint_bytes(state: dict[str, Any]) -> bytes:
    """A checkpoint file's contents: `state`, tagged with the format and its version, serialised in memory."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **state}, buf)
    return buf.getvalue()


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Serialise to memory, then temp file + fsync + rename: a crash never leaves half a file."""
    atomic_write_bytes(path, checkpoint_bytes(state))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint of ours; anything else is a one-line CheckpointError."""
    path = Path(path)
    check_container(path)  # torch.save always writes a zip container
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(f"{path} holds {_blocked(str(e))}, which a checkpoint may not contain (nothing of it "
                              "was run)", "only load checkpoints written by trainlab") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path} is truncated or not a checkpoint ({_first_line(e)})",
                              "use the other checkpoint (best/last) or retrain") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a trainlab checkpoint", "pass a run directory written by trainlab")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path} has no valid format version ({version!r})",
                              "use the other checkpoint (best/last) or retrain")
    if version > VERSION:
        raise CheckpointError(f"{path} was written by a newer trainlab (checkpoint format {version}; this one reads "
                              f"up to {VERSION})", "upgrade trainlab")
    if not is_weights(state.get("model")):
        raise CheckpointError(f"{path} has no model weights (its 'model' entry is not a mapping of names to tensors)",
                              "use the other checkpoint (best/last) or retrain")
    return state


def _blocked(message: str) -> str:
    """What torch's safe unpickler refused, from its message (e.g. 'the global os.system')."""
    found = re.search(r"(?:unsupported|Unsupported global:) GLOBAL ([\w.]+)", message)
    return f"the global {found.group(1)}" if found else "pickled code or objects"


def _first_line(e: BaseException) -> str:
    line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return line if len(line) <= 160 else line[:160].rsplit(" ", 1)[0] + " …"


def is_weights(entry: object) -> bool:
    return isinstance(entry, Mapping) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in entry.items())


def check_model_state(model: nn.Module, state: dict[str, Any], path: Path) -> None:
    """The checkpoint's weights fit `model`: the same names and shapes (else the first difference, named).
    Weights of the layout before models were split into `encoder` and `head` are renamed in `state` first."""
    live = model.state_dict()
    state["model"] = saved = renamed_legacy(state["model"], live)
    missing, unexpected = [k for k in live if k not in saved], [k for k in saved if k not in live]
    shape = next(((k, tuple(saved[k].shape), tuple(v.shape)) for k, v in live.items()
                  if k in saved and saved[k].shape != v.shape), None)
    if missing or unexpected or shape:
        what = (f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}" if unexpected
                else f"{shape[0]} is {shape[1]} there, {shape[2]} here")  # type: ignore[index]
        raise CheckpointError(f"{path} was saved from another architecture ({what})",
                              "use the run's own config.yaml, or retrain")


def renamed_legacy(saved: dict[str, Any], live: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Conv nets saved as one flat Sequential (keys `0.0.weight`, …, `7.bias`) hold the same tensors, in the same
    order, as today's `encoder.*`/`head.*` model: renamed by position when every shape agrees; else as saved."""
    old = all(k.split(".", 1)[0].isdigit() for k in saved)
    new = all(k.startswith(("encoder.", "head.")) for k in live)
    if not (old and new) or len(saved) != len(live):
        return saved
    pairs = list(zip(saved.items(), live.items(), strict=True))
    if any(not isinstance(v, torch.Tensor) or v.shape != w.shape for (_, v), (_, w) in pairs):
        return saved
    return {name: v for (_, v), (name, _) in pairs}


def check_resume_state(state: dict[str, Any], path: Path, optimizer: torch.optim.Optimizer,
                       fit_defaults: dict[str, Any], live: dict[str, dict[str, Any]]) -> None:
    """Everything a resume restores is there and fits: optimizer groups and per-parameter state, the `live`
    schedule's and scaler's keys, the RNG, and the loop state's fields and their types (`fit_defaults`)."""
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{path} cannot be resumed: {problem}",
                               "start a new run from its weights with train.init_from=RUN_DIR, or retrain")

    def number(v: object) -> bool:
        return v is None or (isinstance(v, int | float) and not isinstance(v, bool))

    for key in ("optimizer", "schedule", "scaler", "fit_state", "rng"):
        if not isinstance(state.get(key), Mapping):
            raise bad(f"its {key!r} entry is missing or not a mapping")
    opt = state["optimizer"]
    groups = opt.get("param_groups")
    if not isinstance(opt.get("state"), Mapping) or not isinstance(groups, list) or \
            not all(isinstance(g, Mapping) and isinstance(g.get("params"), list) for g in groups):
        raise bad("its optimizer state has no 'state' and 'param_groups'")
    live_groups = [len(g["params"]) for g in optimizer.param_groups]
    if [len(g["params"]) for g in groups] != live_groups:
        raise bad(f"its optimizer has {[len(g['params']) for g in groups]} parameters per group, this model "
                  f"{live_groups}")
    params = dict(zip((i for g in groups for i in g["params"]),
                      (p for g in optimizer.param_groups for p in g["params"]), strict=True))
    for pid, entry in opt["state"].items():
        if pid not in params or not isinstance(entry, Mapping):
            raise bad(f"its optimizer state names parameter {pid!r}, which no group holds")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape != params[pid].shape:
                raise bad(f"its optimizer's {name} of parameter {pid} is {tuple(value.shape)}, the parameter "
                          f"{tuple(params[pid].shape)}")
    fit = state["fit_state"]
    if set(fit) != set(fit_defaults):
        extra, lacking = sorted(set(fit) - set(fit_defaults)), sorted(set(fit_defaults) - set(fit))
        raise bad("its loop state " + (f"has unknown fields {extra}" if extra else f"lacks {lacking}"))
    for k, default in fit_defaults.items():
        whole = isinstance(default, int) and not isinstance(default, bool)
        ok = isinstance(fit[k], int) and not isinstance(fit[k], bool) if whole else number(fit[k])
        if not ok:
            raise bad(f"its loop state's {k} is {fit[k]!r}, not {'an integer' if whole else 'a number'}")
    rng = state["rng"].get("torch")
    if not isinstance(rng, torch.Tensor) or rng.dtype != torch.uint8 or rng.shape != torch.get_rng_state().shape:
        raise bad("its RNG state is not a torch CPU generator state")
    for key, expected in live.items():
        saved = state[key]
        if not set(expected) <= set(saved) or not all(number(v) for v in saved.values()):
            raise bad(f"its {key} state lacks {sorted(set(expected) - set(saved))} or holds values that are not "
                      "numbers")


def load_model_state(model: nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load weights, checked against the model first (an architecture mismatch is a clear error)."""
    check_model_state(model, state, path)
    model.load_state_dict(state["model"])


def load_weights(model: nn.Module, path: Path, device: torch.device | str = "cpu",
                 state: dict[str, Any] | None = None) -> int:
    """The one weight loader: `path`'s weights (`state`: already read from it) into `model`, moved to `device`
    and left in eval mode; returns the epoch they were saved at."""
    state = load_checkpoint(path, device) if state is None else state
    load_model_state(model.to(device), state, path)
    model.eval()
    fit = state.get("fit_state")
    epoch = fit.get("epoch") if isinstance(fit, Mapping) else state.get("epoch", 0)
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else 0
