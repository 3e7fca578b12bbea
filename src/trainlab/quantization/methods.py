"""Post-training int8 quantization with torch.ao, one entry per method in METHODS.

    static   FX graph mode (prepare_fx → calibrate on training batches → convert_fx): weights and
             activations int8; conv-bn-relu, conv-bn, linear-relu and linear-bn are fused by prepare_fx.
             Graph mode, not eager mode: the models stay as they are (no QuantStub/DeQuantStub, no
             FloatFunctional for residual adds) because FX traces them and places quantize/dequantize
             itself, around ops that have no int8 kernel (GlobalMaxAvgPool's amax, VGG's avg pools).
    dynamic  eager `quantize_dynamic`: nn.Linear weights int8, activations quantized on the fly per batch;
             convolutions stay float.

A method also builds the `skeleton` of a quantized model (same modules, placeholder scales): loading a
quantized checkpoint is skeleton + `load_state_dict`, so the file holds only tensors.
"""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.registry import Registry

# model.name values whose models FX traces and torch.ao quantizes (the array models; the sequence models'
# hand-written recurrent cells and decoding loops are not traceable and are refused).
SUPPORTED_MODELS = ("convnet", "linear", "mlp", "pyramid_cnn", "resnet", "vgg")
# Quantized kernels by preference: x86 (fbgemm + onednn) on x86 CPUs, qnnpack on ARM.
ENGINES = ("x86", "fbgemm", "onednn", "qnnpack")


def check_supported(model_name: str) -> None:
    if model_name not in SUPPORTED_MODELS:
        raise UserError(f"model {model_name} cannot be quantized (supported: {', '.join(SUPPORTED_MODELS)})",
                        "quantize a run of one of those models")


def select_engine(name: str | None = None) -> str:
    """Set torch's quantized engine to `name` (or the best one this build has) and return it."""
    available = torch.backends.quantized.supported_engines
    if name is None:
        name = next((e for e in ENGINES if e in available), None)
    if name not in available:
        raise UserError(f"quantized engine {name} is not in this torch build (it has: {', '.join(available)})",
                        "quantize on a machine whose torch has it")
    torch.backends.quantized.engine = name
    return name


@contextmanager
def quiet() -> Iterator[None]:
    """torch.ao.quantization warns on every call that it is deprecated in favour of torchao (not installable
    beside torch 2.13's pin here); the calls still work, so the warnings are silenced where they are made."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\.")
        warnings.filterwarnings("ignore", message=r"(?s).*(torch\.ao\.quantization is deprecated|reduce_range will "
                                                  r"be deprecated|quantized tensor creation|TypedStorage)")
        yield


def _float_copy(model: nn.Module) -> nn.Module:
    """A CPU copy in eval mode with in-place activations made out-of-place (quantized leaky ReLU has no
    in-place kernel and warns on every call)."""
    model = copy.deepcopy(model).cpu().eval()
    for m in model.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    return model


def _static(model: nn.Module, example: torch.Tensor, batches: Iterable[torch.Tensor]) -> nn.Module:
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    with quiet():
        prepared = prepare_fx(_float_copy(model), get_default_qconfig_mapping(torch.backends.quantized.engine),
                              (example,))
        with torch.no_grad():
            for x in batches:
                prepared(x)
        return convert_fx(prepared)


def _dynamic(model: nn.Module, example: torch.Tensor, batches: Iterable[torch.Tensor]) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    with quiet():
        return quantize_dynamic(_float_copy(model), {nn.Linear}, dtype=torch.qint8)


@dataclass(frozen=True)
class Method:
    """`convert(model, example, calibration batches)` → the int8 model; `calibrates`: whether it reads batches."""

    convert: Callable[[nn.Module, torch.Tensor, Iterable[torch.Tensor]], nn.Module]
    calibrates: bool

    def skeleton(self, model: nn.Module, example: torch.Tensor) -> nn.Module:
        """The quantized model's structure, to load a quantized state dict into (one calibration batch of
        zeros only sets placeholder ranges)."""
        return self.convert(model, example, [torch.zeros_like(example)])


METHODS: Registry[Method] = Registry("quantization method")
METHODS.register("static")(Method(_static, calibrates=True))
METHODS.register("dynamic")(Method(_dynamic, calibrates=False))


def quantized_layers(model: nn.Module) -> dict[str, int]:
    """Counts of the int8 module types (e.g. {'ConvReLU2d': 3, 'Linear': 1}): which layers were quantized and
    fused."""
    counts: dict[str, int] = {}
    for m in model.modules():
        if type(m).__module__.startswith("torch.ao.nn.") and not type(m).__name__.endswith("PackedParams"):
            counts[type(m).__name__] = counts.get(type(m).__name__, 0) + 1
    return counts


# ---------------------------------------------------------------- the state dict as plain tensors
def flat_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The quantized state dict as name → tensor (int8 weights with their scales and zero points): a linear
    layer's packed (weight, bias) pair becomes `…_packed_params.0`/`.1`, its dtype entry is dropped (the
    skeleton has it). Loads with weights_only=True, like every checkpoint of ours."""
    flat: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        if isinstance(v, tuple):
            flat |= {f"{k}.{i}": t for i, t in enumerate(v) if t is not None}
        elif isinstance(v, torch.Tensor):
            flat[k] = v
    return flat


def load_flat_state(skeleton: nn.Module, flat: dict[str, torch.Tensor]) -> list[str]:
    """Load `flat_state`'s tensors into a skeleton; returns the names that did not fit (empty when all did)."""
    template = skeleton.state_dict()
    state: OrderedDict[str, object] = OrderedDict()
    state._metadata = template._metadata  # type: ignore[attr-defined]  # the modules' state versions
    used, problems = set(), []
    for k, v in template.items():
        if isinstance(v, tuple):  # a linear layer's packed (weight, bias)
            state[k] = tuple(flat.get(f"{k}.{i}") for i in range(len(v)))
            used |= {f"{k}.{i}" for i in range(len(v))}
            if not all(_fits(a, b) for a, b in zip(state[k], v, strict=True)):
                problems.append(k)
        elif isinstance(v, torch.Tensor):
            state[k] = flat.get(k)
            used.add(k)
            if not _fits(state[k], v):
                problems.append(k)
        else:
            state[k] = v
    problems += sorted(set(flat) - used)
    if not problems:
        with quiet():
            skeleton.load_state_dict(state)
    return problems


def _fits(saved: torch.Tensor | None, live: torch.Tensor | None) -> bool:
    if saved is None or live is None:
        return saved is live
    return saved.shape == live.shape and saved.dtype == live.dtype
