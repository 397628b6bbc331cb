"""Routing rules: a strict YAML routing tree and the organisation model that turns owners into topics."""

from router.rules.config import Decision, Explanation, RoutingConfig, load_config
from router.rules.orgmodels import ORG_MODELS, UNASSIGNED
from router.rules.reload import ConfigHolder
from router.rules.tree import PRIORITIES

__all__ = [
    "ConfigHolder", "Decision", "ORG_MODELS", "PRIORITIES", "RoutingConfig", "Explanation", "UNASSIGNED", "load_config",
]
