"""Prometheus metrics of the worker; the worker serves them over HTTP."""

from prometheus_client import Counter, Gauge, Histogram

MENTIONS_ROUTED = Counter(
    "inbox_router_mentions_routed", "Mentions routed, by label and owner.", ["label", "owner"]
)
MENTIONS_DEAD_LETTERED = Counter(
    "inbox_router_mentions_dead_lettered", "Records sent to the dead-letter topic.", ["reason"]
)
MENTIONS_CAREFUL = Counter(
    "inbox_router_records_to_careful", "Records handed to the careful lane, their fast labels unsure."
)
CAREFUL_LABELLED = Counter(
    "inbox_router_careful_labelled", "Records the careful lane labelled and handed back, by the stage of their labels.",
    ["stage"]
)
CONFIG_RELOADS = Counter(
    "inbox_router_config_reloads", "Routing config reload attempts, by outcome.", ["outcome"]
)
ROUTING_LATENCY = Histogram(
    "inbox_router_routing_seconds", "Time from a record's arrival to its routing decision."
)
DELIVERY_RETRIES = Counter(
    "inbox_router_delivery_retries", "Batches tried again after a failed send, commit or transaction.", ["step"]
)
WORKER_STOPS = Counter(
    "inbox_router_worker_stops", "Times the loop stopped without committing, by error.", ["reason"]
)
CONSUMER_LAG = Gauge(
    "inbox_router_consumer_lag", "Records behind the end of each input partition after the last batch.", ["partition"]
)
MODEL_RELOADS = Counter(
    "inbox_router_model_reloads", "Model directory reload attempts, by outcome.", ["outcome"]
)
MODEL_INFO = Gauge(
    "inbox_router_model_info", "The classifier in use (always 1).", ["version"]
)
