"""Incident events: what `routing.incidents` receives when an incident opens, grows and resolves."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from router.crisis.scopes import Open

TOP_TERMS = 5
State = Literal["opened", "updated", "resolved"]


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One state of an incident; `document()` is the record `routing.incidents` receives."""

    incident_id: str
    state: State
    scope: str
    trigger: str  # "spike" (a window over the threshold) or "influencer" (one mention from an influential author)
    start: int  # the window of the highest count so far, Unix seconds
    end: int
    count: int
    baseline: float
    threshold: int
    mentions: int
    top_terms: tuple[str, ...]
    example_ids: tuple[str, ...]
    opened_at: int
    resolved_at: int | None = None
    unit: str | None = None  # the business unit of the mention that opened it

    @classmethod
    def of(cls, scope: str, state: State, incident: Open, resolved_at: int | None = None) -> "IncidentEvent":
        # Most frequent first; among equals the longest, which says more ("contaminated" before "booking").
        top = sorted(Counter(incident.terms).items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[:TOP_TERMS]
        return cls(incident.id, state, scope, incident.trigger, incident.start, incident.end, incident.count,
                   incident.baseline, incident.threshold, incident.mentions, tuple(term for term, _ in top),
                   tuple(incident.examples), incident.opened_at, resolved_at, incident.unit)

    def document(self) -> dict:
        """The event as JSON-ready data; `resolved_at` only once resolved."""
        document = {
            "incident_id": self.incident_id,
            "state": self.state,
            "scope": self.scope,
            "trigger": self.trigger,
            "window": {"start": iso(self.start), "end": iso(self.end)},
            "count": self.count,
            "baseline": self.baseline,
            "threshold": self.threshold,
            "mentions": self.mentions,
            "top_terms": list(self.top_terms),
            "example_ids": list(self.example_ids),
            "opened_at": iso(self.opened_at),
            "business_unit": self.unit,
        }
        if self.resolved_at is not None:
            document["resolved_at"] = iso(self.resolved_at)
        return document


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
