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
