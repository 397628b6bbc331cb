"""Counters over replay outcomes: constant memory whatever the archive size, deterministic output."""

from collections import Counter
from datetime import timezone

from router.pipeline import DeadLettered, Outcome, Routed

CONFIDENCE_BINS = 10


def reason_group(reason: str) -> str:
    """`invalid mention: created_at: Field required` -> `invalid mention`, as the worker's metric labels it."""
    return reason.split(":", 1)[0]


def confidence_bin(confidence: float) -> str:
    """`0.9-1.0` style bucket names, which sort in numeric order as strings."""
    index = min(int(confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)
    return f"{index / CONFIDENCE_BINS:.1f}-{(index + 1) / CONFIDENCE_BINS:.1f}"


CONFIDENCE_NAMES = tuple(confidence_bin((index + 0.5) / CONFIDENCE_BINS) for index in range(CONFIDENCE_BINS))


def route_name(routed: Routed) -> str:
    return "/".join(routed.decision.route)


def day_of(routed: Routed) -> str:
    return routed.mention.created_at.astimezone(timezone.utc).date().isoformat()


class Summary:
    """What a replay did: how many mentions went where, and why some went nowhere."""

    COUNTERS = ("by_label", "by_owner", "by_queue", "by_route", "by_priority", "by_source", "by_tag", "by_day",
                "confidence", "low_confidence_by_label", "dead_letter_reasons")

    def __init__(self) -> None:
        self.records = 0
        self.routed = 0
        self.dead_lettered = 0
        self.low_confidence = 0
        self.counters: dict[str, Counter] = {name: Counter() for name in self.COUNTERS}
        self.config_hashes: Counter = Counter()
        self.model_versions: Counter = Counter()
        self._last_record: object = None

    def add(self, outcome: Outcome) -> None:
        # A webhook record may carry several mentions; its outcomes share one Record object.
        if outcome.record is not self._last_record:
            self.records += 1
            self._last_record = outcome.record
        if isinstance(outcome, DeadLettered):
            self.dead_lettered += 1
            self.counters["dead_letter_reasons"][reason_group(outcome.reason)] += 1
        else:
            self._add_routed(outcome)

    def _add_routed(self, routed: Routed) -> None:
        decision, label, c = routed.decision, routed.classification.label, self.counters
        self.routed += 1
        c["by_label"][label] += 1
        c["by_owner"][decision.owner] += 1
        c["by_queue"].update(decision.queues)
        c["by_route"][route_name(routed)] += 1
        c["by_priority"][decision.priority] += 1
        c["by_source"][routed.mention.source] += 1
        c["by_tag"].update(decision.tags)
        c["by_day"][day_of(routed)] += 1
        c["confidence"][confidence_bin(routed.classification.confidence)] += 1
        if routed.low_confidence:
            self.low_confidence += 1
            c["low_confidence_by_label"][label] += 1
        self.config_hashes[routed.routing["config_hash"]] += 1
        self.model_versions[routed.routing["model_version"]] += 1

    @property
    def read(self) -> int:
        """Mentions read: every outcome is one mention, or one record that held none."""
        return self.routed + self.dead_lettered

    def as_dict(self) -> dict:
        """The summary as plain JSON-ready data; no clock, no paths, nothing that varies between runs."""
        return {
            "read": self.read,
            "records": self.records,
            "routed": self.routed,
            "dead_lettered": self.dead_lettered,
            "low_confidence": self.low_confidence,
            "config_hash": _only(self.config_hashes),
            "model_version": _only(self.model_versions),
            **{name: dict(sorted(counter.items())) for name, counter in self.counters.items()},
            "confidence": {name: self.counters["confidence"][name] for name in CONFIDENCE_NAMES},
        }


def _only(values: Counter) -> str | list[str] | None:
    """The one value seen, or all of them sorted if a replay somehow mixed several."""
    names = sorted(values)
    return names[0] if len(names) == 1 else (names or None)
