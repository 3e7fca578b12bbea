"""What a model's representation is: `features(model, x)`, the same layer for every model family.

`layer="penultimate"` (the default) is, in order of precedence:

1. `model.features(x)` when the model defines it: models whose representation is not the input of their last
   linear layer say what it is (the contrastive task's encoder output, below its projection head);
2. the input of the model's last `nn.Linear` (the classifier's input): the flattened conv features of a convnet
   without hidden layers, the last hidden layer of an MLP or of a convnet's affine head, the globally pooled
   channels of a ResNet, a VGG (its final classifier, not a deep-supervision head) or a PyramidCNN, the raw
   flattened input of softmax regression;
3. for a model without a linear layer that has an `encoder` (an autoencoder): the encoder's output, flattened.

`layer="output"` is the model's output (logits); any other value names a submodule (`model.named_modules()`,
e.g. `0` or `stage2`) whose output is taken. Every layer is returned flattened to (N, D).
"""

from __future__ import annotations

import torch
from torch import nn

from trainlab.errors import UserError

PENULTIMATE, OUTPUT = "penultimate", "output"


def final_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear] | None:
    """(parent, attribute name, layer) of the model's last `nn.Linear` in registration (= forward) order."""
    found = None
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                found = (parent, name, child)
    return found


def strip_classifier(model: nn.Module) -> tuple[nn.Module, int]:
    """The model with its last linear layer replaced by the identity (in place): a module whose output is the
    penultimate features; and their width."""
    found = final_linear(model)
    if found is None:
        raise UserError(f"{type(model).__name__} has no linear classifier layer to take off",
                        "use a model family with a linear head (mlp, convnet, pyramid_cnn, resnet, vgg)")
    parent, name, layer = found
    setattr(parent, name, nn.Identity())
    return model, layer.in_features


def layer_names(model: nn.Module) -> list[str]:
    """What `layer` may be for this model."""
    return [PENULTIMATE, OUTPUT, *(name for name, _ in model.named_modules() if name)]


def features(model: nn.Module, x: torch.Tensor, layer: str = PENULTIMATE) -> torch.Tensor:
    """The activations of `layer` for the batch `x`, flattened to (N, D) (see the module docstring)."""
    if layer == OUTPUT:
        return model(x).flatten(1)
    if layer == PENULTIMATE:
        own = getattr(model, "features", None)
        if callable(own):
            return own(x).flatten(1)
        found = final_linear(model)
        if found is None:
            encoder = getattr(model, "encoder", None)
            if isinstance(encoder, nn.Module):
                return encoder(x).flatten(1)
            raise UserError(f"{type(model).__name__} has no penultimate layer (no linear layer, no encoder)",
                            f"name a layer: --layer {' or '.join(layer_names(model)[1:6])}")
        return _captured(model, found[2], x, before=True)
    modules = dict(model.named_modules())
    if layer not in modules or not layer:
        raise UserError(f"{type(model).__name__} has no layer {layer!r}",
                        f"use one of: {', '.join(layer_names(model))}")
    return _captured(model, modules[layer], x, before=False)


def _captured(model: nn.Module, module: nn.Module, x: torch.Tensor, before: bool) -> torch.Tensor:
    """The input (`before`) or output of `module` during `model(x)`, flattened."""
    seen: list[torch.Tensor] = []

    def keep(_m: nn.Module, args: tuple, out: torch.Tensor | None = None) -> None:
        seen.append((args[0] if before else out).clone())  # type: ignore[union-attr]  (an in-place op may follow)

    handle = module.register_forward_pre_hook(keep) if before else module.register_forward_hook(keep)
    try:
        model(x)
    finally:
        handle.remove()
    if not seen:
        raise UserError(f"{type(model).__name__}'s layer was not run by a forward pass", "name another --layer")
    return seen[-1].flatten(1)
