"""Weights from a local state-dict file in torchvision's ResNet layout, renamed onto `models/resnet.py`'s ResNet.

    conv1 / bn1                  → stem.0 / stem.1
    layer{i}.{j}.conv*/bn*       → stages.{k}.conv*/bn*   (k counts the blocks of layer1..layer{i-1}, then j)
    layer{i}.{j}.downsample.0/1  → stages.{k}.shortcut.0/1
    fc                           → head (left out: the new head is sized for the new classes)

Never downloads: the file is read with `weights_only=True` (tensors only, no code). A greyscale model takes the
RGB stem filters summed over their input channels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from trainlab.errors import CheckpointError, UserError
from trainlab.models.resnet import ResNet

LAYER_KEY = re.compile(r"layer(\d+)\.(\d+)\.(.+)")
HEAD = "fc."


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A file of name → tensor (a `torch.save(model.state_dict())`), read safely."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"transfer.weights file {path} does not exist", "give the path of a local .pt/.pth file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"transfer.weights file {path} is not a readable state dict "
                              f"({str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__})",
                              "save one with torch.save(model.state_dict(), FILE)") from None
    if not isinstance(state, Mapping) or not state or \
            not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"transfer.weights file {path} is not a state dict (a mapping of names to tensors)",
                              "save one with torch.save(model.state_dict(), FILE)")
    return dict(state)


def torchvision_name(key: str, blocks: list[int]) -> str | None:
    """Our name of torchvision's `key` (None: a layer this ResNet has not got)."""
    for theirs, ours in (("conv1.", "stem.0."), ("bn1.", "stem.1.")):
        if key.startswith(theirs):
            return ours + key[len(theirs):]
    found = LAYER_KEY.fullmatch(key)
    if found is None:
        return None
    layer, block, rest = int(found[1]), int(found[2]), found[3]
    if not 1 <= layer <= len(blocks) or block >= blocks[layer - 1]:
        return None
    return f"stages.{sum(blocks[:layer - 1]) + block}.{rest.replace('downsample.', 'shortcut.')}"


def torchvision_resnet(model: ResNet, path: Path) -> dict[str, torch.Tensor]:
    """`path`'s backbone tensors under our names, every one checked against `model` (the first mismatch is a
    one-line error naming torchvision's key); the file's fc is left out."""
    state = read_state_dict(path)
    live = model.state_dict()
    hint = "use model.name=resnet model.stem=imagenet with the file's depth (18, 34 or 50)"
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(HEAD):
            continue
        ours = torchvision_name(key, model.blocks)
        if ours is None or ours not in live:
            raise CheckpointError(f"transfer.weights {path.name}: {key} has no counterpart in this ResNet", hint)
        if ours == "stem.0.weight" and value.shape[1] == 3 and live[ours].shape[1] == 1:
            value = value.sum(dim=1, keepdim=True)  # greyscale input: the RGB filters summed
        if value.shape != live[ours].shape:
            raise CheckpointError(f"transfer.weights {path.name}: {key} is {tuple(value.shape)} there, "
                                  f"{tuple(live[ours].shape)} here ({ours})", hint)
        mapped[ours] = value
    lacking = next((k for k in live if not k.startswith("head.") and k not in mapped), None)
    if lacking is not None:
        raise CheckpointError(f"transfer.weights {path.name} has no tensor for {lacking} of this ResNet", hint)
    return mapped
