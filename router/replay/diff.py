"""What a config or model change would change: counted pair by pair while both replays stream."""

from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from router.pipeline import Outcome, Routed
from router.replay.summary import Summary, route_name

MAX_EXAMPLES = 20
EXAMPLE_TEXT_CHARS = 200


def share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


class Dimension(NamedTuple):
    """One thing about a decision that reaches a person; `optional` ones are reported once a decision carries them."""

    name: str
    value: Callable[[Routed], Any]  # None: the decision does not carry it
    optional: bool = False


def _decision_field(name: str) -> Callable[[Routed], Any]:
    return lambda routed: getattr(routed.decision, name, None)


# Every change a person sees counts. Queue order carries no meaning, so queues compare as sets.
# A new dimension is one line here; the gate, the JSON and the reports follow.
DIMENSIONS = (
    Dimension("owner", _decision_field("owner")),
    Dimension("queues", lambda routed: frozenset(routed.decision.queues)),
    Dimension("priority", _decision_field("priority")),
    Dimension("due_by", _decision_field("due_by"), optional=True),
    Dimension("incident", _decision_field("incident"), optional=True),
)


class Diff:
    """Counts of changes per dimension, the first few examples, and both summaries."""

    def __init__(self, max_examples: int = MAX_EXAMPLES) -> None:
        self.before = Summary()
        self.after = Summary()
        self.compared = 0
        self.changes: Counter = Counter()  # "changed", "label" and each dimension's name
        self.present: set[str] = set()  # the optional dimensions some compared decision carried
        self.owner_moves: Counter = Counter()
        self.triage_moves: Counter = Counter()  # "entered", "left"
        self.examples: list[dict] = []
        self.max_examples = max_examples

    def add(self, before: Outcome, after: Outcome) -> dict | None:
        """Count one pair; returns the change record when the mention's routing changed."""
        self.before.add(before)
        self.after.add(after)
        if not (isinstance(before, Routed) and isinstance(after, Routed)):
            return None  # decoding is router-independent: both are the same dead letter
        self.compared += 1
        if before.low_confidence != after.low_confidence:
            self.triage_moves["entered" if after.low_confidence else "left"] += 1
        if before.classification.label != after.classification.label:
            self.changes["label"] += 1
        what = changed_fields(before, after, self.present)
        if not what:
            return None
        self.changes["changed"] += 1
        self.changes.update(what)
        if "owner" in what:
            self.owner_moves[f"{before.decision.owner} -> {after.decision.owner}"] += 1
        change = change_record(before, after, what)
        if len(self.examples) < self.max_examples:
            self.examples.append(change)
        return change

    def merge(self, other: "Diff") -> None:
        """Add the counts of another diff, e.g. of the next part of the same archives; examples stay the first."""
        self.before.merge(other.before)
        self.after.merge(other.after)
        self.compared += other.compared
        self.changes.update(other.changes)
        self.present |= other.present
        self.owner_moves.update(other.owner_moves)
        self.triage_moves.update(other.triage_moves)
        self.examples.extend(other.examples[:self.max_examples - len(self.examples)])

    def as_dict(self) -> dict:
        before, after = self.before.as_dict(), self.after.as_dict()
        queues = sorted(set(before["by_queue"]) | set(after["by_queue"]))
        load = {q: _delta(before["by_queue"].get(q, 0), after["by_queue"].get(q, 0)) for q in queues}
        return {
            "read": before["read"],
            "records": before["records"],
            "routed": before["routed"],
            "dead_lettered": before["dead_lettered"],
            "compared": self.compared,
            "changed": self.changes["changed"],
            "changed_share": share(self.changes["changed"], self.compared),
            "by_dimension": {d.name: self.changes[d.name] for d in DIMENSIONS
                             if not d.optional or d.name in self.present},
            "label_changed": self.changes["label"],
            "owner_moves": dict(sorted(self.owner_moves.items())),
            "by_queue_delta": {q: d["delta"] for q, d in load.items() if d["delta"]},
            "load": load,
            "triage": {**_delta(before["low_confidence"], after["low_confidence"]),
                       "entered": self.triage_moves["entered"], "left": self.triage_moves["left"]},
            "examples": self.examples,
            "incidents": incident_changes(before["incidents"], after["incidents"]),
            "before": before,
            "after": after,
        }


def changed_fields(before: Routed, after: Routed, present: set[str] | None = None) -> list[str]:
    """The names of the dimensions that differ; `present` collects the optional ones either side carries."""
    what = []
    for dimension in DIMENSIONS:
        b, a = dimension.value(before), dimension.value(after)
        if dimension.optional and present is not None and (b is not None or a is not None):
            present.add(dimension.name)
        if b != a:
            what.append(dimension.name)
    return what


def change_record(before: Routed, after: Routed, what: list[str]) -> dict:
    mention = before.mention
    return {
        "mention_id": mention.id,
        "source": mention.source,
        "created_at": mention.created_at.isoformat(),
        "text": mention.text[:EXAMPLE_TEXT_CHARS],
        "changed": what,
        "before": _side(before),
        "after": _side(after),
    }


def _side(routed: Routed) -> dict:
    d = routed.decision
    return {"label": routed.classification.label, "confidence": routed.routing.confidence,
            "low_confidence": routed.low_confidence, "owner": d.owner, "queues": sorted(d.queues),
            "priority": d.priority, "route": route_name(routed), **_optional(routed)}


def _optional(routed: Routed) -> dict:
    """The optional dimensions the decision carries, as JSON values (a time as RFC 3339)."""
    values = {d.name: d.value(routed) for d in DIMENSIONS if d.optional}
    return {name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in values.items() if value is not None}


def incident_changes(before: list[dict], after: list[dict]) -> dict:
    """The incidents each side opened: an id names a scope and a window, so the same incident has the same id."""
    old, new = {row["incident_id"]: row for row in before}, {row["incident_id"]: row for row in after}
    return {"before": len(old), "after": len(new),
            "only_before": [row for key, row in old.items() if key not in new],
            "only_after": [row for key, row in new.items() if key not in old],
            "changed": sorted(key for key in old.keys() & new.keys() if old[key] != new[key])}


def _delta(before: int, after: int) -> dict:
    return {"before": before, "after": after, "delta": after - before}


def exceeds(diff: dict, percent: float) -> bool:
    """True when a larger share of the compared mentions than `percent` % changes in any dimension."""
    # Integer counts, not the rounded share: 5 changes in 100 must not exceed 5 % by float error.
    return diff["changed"] * 100 > percent * diff["compared"]
