"""One BLAS thread for the scratch tests: their matrices are small, and spinning BLAS
threads on a busy machine slow them down many times over."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield
