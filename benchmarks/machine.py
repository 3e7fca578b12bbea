"""The machine line every benchmark prints first: platform, CPU model, usable CPUs, load, library versions."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line; torch and NumPy/BLAS are described only when the benchmark has imported them."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    parts = [platform.platform(), cpu_model(), f"{usable} of {os.cpu_count()} CPUs usable", f"load average {load}",
             f"python {platform.python_version()}"]
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info())
        parts.append(f"numpy {sys.modules['numpy'].__version__} ({blas})")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
        parts.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads{gpu}")
    return "machine: " + " | ".join(parts)
