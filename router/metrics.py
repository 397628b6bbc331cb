"""Prometheus metrics of the worker; the worker serves them over HTTP."""

from prometheus_client import Counter, Histogram

MENTIONS_ROUTED = Counter(
    "inbox_router_mentions_routed", "Mentions routed, by label and owner.", ["label", "owner"]
)
MENTIONS_DEAD_LETTERED = Counter(
    "inbox_router_mentions_dead_lettered", "Records sent to the dead-letter topic.", ["reason"]
)
CONFIG_RELOADS = Counter(
    "inbox_router_config_reloads", "Routing config reload attempts, by outcome.", ["outcome"]
)
ROUTING_LATENCY = Histogram(
    "inbox_router_routing_seconds", "Time from a record's arrival to its routing decision."
)
