"""Config stage: typed, validated run configs from YAML + dotted overrides (no torch)."""

from trainlab.config.describe import describe_options
from trainlab.config.load import config_to_dict, load_config, validate
from trainlab.config.schema import Config, DataConfig, TrainConfig

__all__ = ["Config", "DataConfig", "TrainConfig", "config_to_dict", "describe_options", "load_config", "validate"]
