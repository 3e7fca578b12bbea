"""Post-training int8 quantization of a finished run (`trainlab quantize`): torch.ao static (FX graph mode,
calibrated, fused) or dynamic, a weights-only int8 checkpoint, and fp32 vs int8 accuracy, size and latency."""

from trainlab.quantization.command import QuantizeReport, Variant, is_quantized, load_quantized, quantize
from trainlab.quantization.methods import METHODS, SUPPORTED_MODELS

__all__ = ["METHODS", "SUPPORTED_MODELS", "QuantizeReport", "Variant", "is_quantized", "load_quantized", "quantize"]
