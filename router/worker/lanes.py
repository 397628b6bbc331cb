"""The worker's side of the careful stage: which records wait for the careful lane, and routing those it labelled.

Pure: the worker hands a record on whole, and routes it once the careful lane has written it back with its
labels; together they decide what `replay` decides with the same cascade (see router/worker/careful.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from router.classify.careful import Cascade, for_config, takes_careful
from router.classify.classifier import Classifier
from router.classify.labels import Classification
from router.conversations import Conversations
from router.crisis.detector import Feeder
from router.errors import DeadLetterKind
from router.mentions import Mention
from router.pipeline import (
    Classified,
    DeadLettered,
    Outcome,
    Record,
    Router,
    classify_batch,
    decide_batch,
    decode_batch,
)
from router.rules import RoutingConfig
from router.worker import carried
from router.worker.delivery import Outgoing


def fast_lane(classifier: Classifier, config: RoutingConfig) -> Classifier:
    """What the worker classifies with: the fast model, named as the cascade the config asks for (if any).

    A decision names the classifier that could have labelled it, as replay's with the same config does; the
    careful model is read for its version here, and its sentence encoder never loaded.
    """
    cascade = for_config(classifier, config)
    return _FastOf(cascade) if isinstance(cascade, Cascade) else cascade


@dataclass(frozen=True, slots=True)
class _FastOf:
    """A cascade's fast stage alone, under the cascade's version and threshold."""

    cascade: Cascade

    @property
    def version(self) -> str:
        return self.cascade.version

    @property
    def threshold(self) -> float:
        return self.cascade.threshold

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        return self.cascade.fast.classify(texts, langs)


def waits_for_careful(classified: Classified, below: float | None) -> bool:
    """Whether a record waits for the careful lane: one of its mentions' fast labels is one the careful stage takes."""
    return isinstance(classified, list) and any(takes_careful(label, below) for label in classified)


def route_fast(records: Sequence[Record], router: Router, now: datetime | None,
               conversations: Conversations | None = None,
               detector: Feeder | None = None) -> tuple[list[Outcome], list[Record]]:
    """The outcomes of the records decided now, and the records that wait for the careful lane, in order.

    A record that waits is not decided and changes no conversation and no crisis count: the careful lane's
    labels, when they come back, are routed as if the record had just arrived.
    """
    decoded = decode_batch(records)
    classified = classify_batch(records, decoded, router.classifier)
    below = router.config.careful_below
    waits = [waits_for_careful(labels, below) for labels in classified] if below is not None else []
    if not any(waits):
        return decide_batch(records, decoded, classified, router, now, conversations, detector), []
    kept = [number for number, wait in enumerate(waits) if not wait]
    outcomes = decide_batch([records[n] for n in kept], [decoded[n] for n in kept], [classified[n] for n in kept],
                            router, now, conversations, detector)
    return outcomes, [record for record, wait in zip(records, waits) if wait]


@dataclass(frozen=True, slots=True)
class _Labelled:
    """The classifier that labelled a record in the careful lane, as routing sees it: its version and threshold."""

    version: str
    threshold: float

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        raise TypeError("labels from the careful lane are routed as they came, never classified again")


def route_labelled(records: Sequence[Record], router: Router, now: datetime | None,
                   conversations: Conversations | None = None, detector: Feeder | None = None) -> list[Outcome]:
    """Route records of the labelled topic with the labels they carry; one whose labels do not fit is dead-lettered."""
    outcomes: list[Outcome] = []
    for record, mentions in zip(records, decode_batch(records)):
        if isinstance(mentions, DeadLettered):
            outcomes.append(mentions)
            continue
        labels = _carried(record, mentions)
        if isinstance(labels, DeadLettered):
            outcomes.append(labels)
            continue
        labelled = Router(_Labelled(labels.model_version, labels.threshold), router.config)
        outcomes += decide_batch([record], [mentions], [labels.labels()], labelled, now, conversations, detector)
    return outcomes


def _carried(record: Record, mentions: list[Mention]) -> carried.Carried | DeadLettered:
    found = carried.decode(record.headers)
    if isinstance(found, str):
        problem = found
    elif len(found.classifications) != len(mentions):
        problem = f"{len(found.classifications)} labels for {len(mentions)} mentions"
    else:
        return found
    kind = DeadLetterKind.INVALID_LABELS
    return DeadLettered(record, f"{kind}: {problem}", kind)


def handed_on(record: Record, topic: str, limit: int,
              headers: tuple[tuple[str, bytes], ...] | None = None) -> Outgoing | DeadLettered:
    """The record as it goes on to `topic`: its key, value, headers (or `headers`) and the time it was first produced.

    One that would outgrow `limit` bytes (its producer's headers can be large) is dead-lettered instead.
    """
    given = record.headers if headers is None else headers
    size = len(record.value or b"") + len(record.key or b"") + sum(len(name) + len(value) for name, value in given)
    if size > limit:
        kind = DeadLetterKind.OUTPUT_TOO_LARGE
        return DeadLettered(record, f"{kind}: {size} bytes, limit {limit}", kind)
    produced = int(record.timestamp * 1000) if record.timestamp > 0 else None  # a record without one gets the time now
    return topic, record.key, record.value or b"", given, produced
