"""Transfer strategies: which parts of a loaded backbone stay frozen (`transfer.strategy`).

A frozen part keeps its weights (`requires_grad=False`, so the optimizer never holds them) and its BatchNorm
layers stay in eval mode whatever `model.train()` says (a forward pre-hook), so their running statistics do not
move either: the features a frozen backbone gives are the loaded ones.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.config.schema import TransferConfig
from trainlab.errors import ConfigError
from trainlab.models.backbone import Staged
from trainlab.registry import Registry

#: strategy → the modules of the model it freezes
STRATEGIES: Registry[Callable[[Staged, TransferConfig], list[nn.Module]]] = Registry("transfer strategy")
STRATEGIES.register("finetune")(lambda model, cfg: [])
STRATEGIES.register("features")(lambda model, cfg: model.backbone_stages())


@STRATEGIES.register("partial")
def _partial(model: Staged, cfg: TransferConfig) -> list[nn.Module]:
    stages = model.backbone_stages()
    if cfg.stages > len(stages):
        raise ConfigError(f"transfer.stages={cfg.stages} but this model's backbone has {len(stages)} stages",
                          f"use transfer.stages between 0 and {len(stages)}")
    return stages[:len(stages) - cfg.stages]


@STRATEGIES.register("freeze_bn")
def _freeze_bn(model: Staged, cfg: TransferConfig) -> list[nn.Module]:
    return [m for stage in model.backbone_stages() for m in stage.modules() if isinstance(m, _BatchNorm)]


def apply_strategy(model: nn.Module, cfg: TransferConfig) -> int:
    """Freeze what `cfg.strategy` freezes (nothing when None); returns the number of parameters frozen."""
    if cfg.strategy is None:
        return 0
    if not isinstance(model, Staged):
        raise ConfigError(f"transfer.strategy={cfg.strategy} needs a model with a backbone and a head",
                          "use model.name=convnet, pyramid_cnn or resnet")
    frozen = 0
    for module in STRATEGIES.get(cfg.strategy)(model, cfg):
        for p in module.parameters():
            frozen += p.numel() * p.requires_grad
            p.requires_grad_(False)
        for bn in module.modules():
            if isinstance(bn, _BatchNorm):
                bn.register_forward_pre_hook(_stay_in_eval)
    return frozen


def _stay_in_eval(module: nn.Module, args: object) -> None:
    module.train(False)
