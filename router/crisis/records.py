"""The Kafka records of crisis mode: incident events, the incident record in its owners' queues, the changelog."""

from collections.abc import Iterable

import orjson

from router.classify.labels import CRISIS_LABEL
from router.crisis.detector import Entry, Verdict
from router.crisis.events import IncidentEvent
from router.pipeline import Message
from router.rules import RoutingConfig
from router.rules.orgmodels import Delivery

INCIDENTS_TOPIC = "routing.incidents"  # every incident event, keyed by incident id
SCOPES_TOPIC = "routing.crisis"  # the detector's changelog: each scope's whole state by scope key, compacted


def incident_routing(event: IncidentEvent, config: RoutingConfig) -> dict | None:
    """Where the incident record goes: its owner and copies, delivered as a crisis by the organisation model."""
    if config.crisis is None:
        return None
    record = config.crisis.incident
    delivery = Delivery(record.owner, record.copies, True, False, CRISIS_LABEL, event.unit, record.priority)
    queues, tags = config.model.deliver(delivery)
    return {"owner": record.owner, "queues": list(dict.fromkeys(queues)), "priority": record.priority,
            "copies": list(record.copies), "tags": ["incident", *dict.fromkeys(tags)], "config_hash": config.hash}


def incident_messages(event: IncidentEvent, config: RoutingConfig, topic: str = INCIDENTS_TOPIC) -> list[Message]:
    """The event on the incidents topic, then the incident record, a record of its own, in each of its queues."""
    key = event.incident_id.encode()
    document = event.document()
    routing = incident_routing(event, config)
    messages = [Message(topic, key, orjson.dumps(document))]
    if routing is not None:
        record = orjson.dumps({**document, "routing": routing})
        messages += [Message(queue, key, record) for queue in routing["queues"]]
    return messages


def changelog_messages(entries: Iterable[Entry], topic: str = SCOPES_TOPIC) -> list[Message]:
    """The detector's changelog records; a None value is a tombstone (the scope is forgotten), for compaction."""
    # Message types its value as bytes: a tombstone is the one record produced without one.
    return [Message(topic, entry.key, entry.value) for entry in entries]  # type: ignore[arg-type]


def detection_messages(detection: Verdict, config: RoutingConfig, *, incidents_topic: str = INCIDENTS_TOPIC,
                       scopes_topic: str | None = SCOPES_TOPIC) -> list[Message]:
    """Everything a feed or a tick produced: its incidents' records, then (with `scopes_topic`) its changelog."""
    messages = [message for event in detection.events for message in incident_messages(event, config, incidents_topic)]
    return messages + (changelog_messages(detection.entries, scopes_topic) if scopes_topic else [])
