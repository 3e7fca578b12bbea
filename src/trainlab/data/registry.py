"""The dataset registry: name → loader(cfg) -> RawData."""

from collections.abc import Callable

from trainlab.config.schema import DataConfig
from trainlab.data.base import RawData
from trainlab.registry import Registry

DATASETS: Registry[Callable[[DataConfig], RawData]] = Registry("dataset")
