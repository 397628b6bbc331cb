"""The incidents a replay opened, from their events: one row per incident, and the records its queues received."""

from collections import Counter
from collections.abc import Iterable

from router.crisis.events import IncidentEvent, iso
from router.crisis.records import incident_routing
from router.rules import RoutingConfig


class IncidentLog:
    """Each incident's latest state, by id, in the order they opened; mergeable like the summary's counters."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self.records_by_queue: Counter = Counter()  # incident records delivered (one per event and queue)

    def add(self, events: Iterable[IncidentEvent], config: RoutingConfig) -> None:
        for event in events:
            self.rows[event.incident_id] = {
                "incident_id": event.incident_id, "scope": event.scope, "trigger": event.trigger,
                "opened_at": iso(event.opened_at),
                "resolved_at": iso(event.resolved_at) if event.resolved_at is not None else None,
                "count": event.count, "baseline": event.baseline, "mentions": event.mentions,
                "top_terms": list(event.top_terms),
            }
            routing = incident_routing(event, config)
            self.records_by_queue.update(routing["queues"] if routing else ())

    def merge(self, other: "IncidentLog") -> None:
        """Add a later part's incidents: one that continues an earlier part's takes its place."""
        self.rows.update(other.rows)
        self.records_by_queue.update(other.records_by_queue)

    def listed(self) -> list[dict]:
        return sorted(self.rows.values(), key=lambda row: (row["opened_at"], row["incident_id"]))
