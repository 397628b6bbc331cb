"""Counters over replay outcomes: constant memory whatever the archive size, deterministic output."""

from collections import Counter
from collections.abc import Iterable
from datetime import timezone

from router.crisis.events import IncidentEvent
from router.pipeline import DeadLettered, Outcome, Routed
from router.replay.incidents import IncidentLog
from router.rules import RoutingConfig

CONFIDENCE_BINS = 10


def confidence_bin(confidence: float) -> str:
    """`0.9-1.0` style bucket names, which sort in numeric order as strings."""
    index = min(int(confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)
    return f"{index / CONFIDENCE_BINS:.1f}-{(index + 1) / CONFIDENCE_BINS:.1f}"


CONFIDENCE_NAMES = tuple(confidence_bin((index + 0.5) / CONFIDENCE_BINS) for index in range(CONFIDENCE_BINS))


def route_name(routed: Routed) -> str:
    return "/".join(routed.decision.route)


class Summary:
    """What a replay did: how many mentions went where, and why some went nowhere.

    Each routed mention counts once under the tuple of everything the summary reports about it but its day
    (a set bounded by the config, whatever the archive's size), and once under its day; the per-field
    counters are derived when asked for, so counting costs two increments per mention and two summaries
    add up exactly (`merge`).
    """

    COUNTERS = ("by_label", "by_owner", "by_queue", "by_route", "by_priority", "by_source", "by_tag", "by_day",
                "confidence", "low_confidence_by_label", "dead_letter_reasons")

    def __init__(self) -> None:
        self.records = 0
        self.dead_lettered = 0
        self.dead_letter_reasons: Counter = Counter()
        # (label, owner, queues, route, priority, source, tags, confidence bin, low confidence, config, model)
        self.routed_by: Counter = Counter()
        self.by_day: Counter = Counter()  # UTC dates
        self.incidents = IncidentLog()
        self._last_record: object = None

    def add(self, outcome: Outcome) -> None:
        self.add_all((outcome,))

    def add_all(self, outcomes: Iterable[Outcome]) -> None:
        """Count outcomes in order; the counters take a batch's keys in one call each."""
        keys, days = [], []
        for outcome in outcomes:
            # A webhook record may carry several mentions; its outcomes share one Record object.
            if outcome.record is not self._last_record:
                self.records += 1
                self._last_record = outcome.record
            if isinstance(outcome, DeadLettered):
                self.dead_lettered += 1
                self.dead_letter_reasons[outcome.kind.value] += 1  # a plain string: the summary is JSON
                continue
            decision, classification, router = outcome.decision, outcome.classification, outcome.router
            keys.append((classification.label, decision.owner, decision.queues, decision.route, decision.priority,
                         outcome.mention.source, decision.tags,
                         min(int(classification.confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1),
                         outcome.low_confidence, router.config.hash, router.classifier.version))
            days.append(outcome.mention.created_at.astimezone(timezone.utc).date())
        self.routed_by.update(keys)
        self.by_day.update(days)

    def add_incidents(self, events: Iterable[IncidentEvent], config: RoutingConfig) -> None:
        """Take note of incident events, which the crisis detector gave while these outcomes were routed."""
        self.incidents.add(events, config)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_last_record": None}  # a summary sent between processes needs no record

    def merge(self, other: "Summary") -> None:
        """Add the counts of another summary, e.g. of the next part of the same archives."""
        self.records += other.records
        self.dead_lettered += other.dead_lettered
        self.dead_letter_reasons.update(other.dead_letter_reasons)
        self.routed_by.update(other.routed_by)
        self.by_day.update(other.by_day)
        self.incidents.merge(other.incidents)

    @property
    def routed(self) -> int:
        return sum(self.routed_by.values())

    @property
    def low_confidence(self) -> int:
        return sum(count for key, count in self.routed_by.items() if key[8])

    @property
    def read(self) -> int:
        """Mentions read: every outcome is one mention, or one record that held none."""
        return self.routed + self.dead_lettered

    @property
    def counters(self) -> dict[str, Counter]:
        c: dict[str, Counter] = {name: Counter() for name in self.COUNTERS}
        for key, count in self.routed_by.items():
            label, owner, queues, route, priority, source, tags, bin_index, low = key[:9]
            c["by_label"][label] += count
            c["by_owner"][owner] += count
            for queue in queues:
                c["by_queue"][queue] += count
            c["by_route"]["/".join(route)] += count
            c["by_priority"][priority] += count
            c["by_source"][source] += count
            for tag in tags:
                c["by_tag"][tag] += count
            c["confidence"][CONFIDENCE_NAMES[bin_index]] += count
            if low:
                c["low_confidence_by_label"][label] += count
        c["by_day"] = Counter({day.isoformat(): count for day, count in self.by_day.items()})
        c["dead_letter_reasons"] = self.dead_letter_reasons
        return c

    def as_dict(self) -> dict:
        """The summary as plain JSON-ready data; no clock, no paths, nothing that varies between runs."""
        counters = self.counters
        return {
            "read": self.read,
            "records": self.records,
            "routed": self.routed,
            "dead_lettered": self.dead_lettered,
            "low_confidence": self.low_confidence,
            "config_hash": _only(Counter(key[9] for key in self.routed_by)),
            "model_version": _only(Counter(key[10] for key in self.routed_by)),
            **{name: dict(sorted(counter.items())) for name, counter in counters.items()},
            "confidence": {name: counters["confidence"][name] for name in CONFIDENCE_NAMES},
            "incidents": self.incidents.listed(),
            "incident_records_by_queue": dict(sorted(self.incidents.records_by_queue.items())),
        }


def _only(values: Counter) -> str | list[str] | None:
    """The one value seen, or all of them sorted if a replay somehow mixed several."""
    names = sorted(values)
    return names[0] if len(names) == 1 else (names or None)
