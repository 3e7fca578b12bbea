"""trainlab: train, evaluate, diagnose and compare deep-learning experiments."""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in ("run", "resume", "evaluate", "RunResult"):
        from trainlab import api

        return getattr(api, name)
    if name in ("probe", "embed", "cluster"):
        from trainlab import representations

        return getattr(representations, name)
    if name in ("quantize", "load_quantized"):
        from trainlab import quantization

        return getattr(quantization, name)
    raise AttributeError(name)


__all__ = ["RunResult", "cluster", "embed", "evaluate", "load_quantized", "probe", "quantize", "resume", "run"]
