"""The configuration: ``budgets.yaml`` models, units, loading from a path or COS, and its CLI commands."""

from lib.config.loader import load_config, parse_config
from lib.config.models import Budget, Channel, Config, Spike

__all__ = ["Budget", "Channel", "Config", "Spike", "load_config", "parse_config"]
