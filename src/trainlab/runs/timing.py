"""Where a command's time goes: start-up (process start to the first epoch), epochs, final evaluation, the rest."""

from __future__ import annotations

import os
import time
from pathlib import Path

_IMPORTED = time.monotonic()  # fallback origin where the process start time cannot be read


def process_age() -> float:
    """Seconds since this process started (from /proc on Linux; else since this module was imported)."""
    try:
        stat = Path(f"/proc/{os.getpid()}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


def timing_line(t: dict[str, float | list[float]]) -> str:
    """The log line of `summary.json`'s `timing` section."""
    epochs = t.get("epochs_s") or []
    each = ", ".join(f"{e:.1f}" for e in epochs) if isinstance(epochs, list) else ""
    return (f"time: start-up {t['startup_s']:.1f}s, {len(epochs)} epoch(s) {t['train_s']:.1f}s ({each}), "
            f"final evaluation {t['final_eval_s']:.1f}s, checkpoints and figures {t['other_s']:.1f}s, "
            f"whole command {t['total_s']:.1f}s so far")
