"""The run's log: train.log (appended, timestamped) plus a console handler, for one run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def log_to(logger: logging.Logger, path: Path, console: logging.Handler) -> Iterator[None]:
    """Send `logger`'s INFO lines to `path` and to `console` while the block runs."""
    file_handler = logging.FileHandler(path, mode="a")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handlers = (file_handler, console)
    for h in handlers:
        logger.addHandler(h)
    try:
        yield
    finally:
        for h in handlers:
            logger.removeHandler(h)
        file_handler.close()


@contextmanager
def warnings_to(logger: logging.Logger, handler: logging.Handler) -> Iterator[None]:
    """Send `logger`'s warnings and errors (no INFO lines) to `handler` only while the block runs (a DDP rank
    other than 0: rank 0 keeps the log)."""
    handler.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
