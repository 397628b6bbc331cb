"""The pure core: raw records in, routing outcomes and the Kafka messages they produce out.

The worker and the offline replay both call `route_batch`, so a replay predicts
exactly what production does. No clock, no Kafka and no files in here.
"""

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from router.classify.labels import Classification
from router.classify.model import Classifier
from router.errors import InvalidMention
from router.mentions import Mention, decode_record
from router.rules import Decision, RoutingConfig


@dataclass(frozen=True, slots=True)
class Record:
    """A raw inbound record and where it was read from."""

    value: bytes | None
    key: bytes | None = None
    topic: str = ""
    partition: int = -1
    offset: int = -1
    timestamp: float = 0.0  # when the record was produced, seconds since the epoch


@dataclass(frozen=True, slots=True)
class Router:
    """What routing needs; swapped whole when the config reloads, so a batch never mixes two."""

    classifier: Classifier
    config: RoutingConfig

    @property
    def threshold(self) -> float:
        configured = self.config.confidence_threshold
        return self.classifier.threshold if configured is None else configured


@dataclass(frozen=True, slots=True)
class Routed:
    """A mention with the decision made for it."""

    record: Record
    mention: Mention
    classification: Classification
    low_confidence: bool
    decision: Decision
    routing: dict


@dataclass(frozen=True, slots=True)
class DeadLettered:
    """A record that is not a mention, kept whole with the reason."""

    record: Record
    reason: str


Outcome = Routed | DeadLettered


@dataclass(frozen=True, slots=True)
class Message:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes


def route_batch(records: Sequence[Record], router: Router, now: datetime | None) -> list[Outcome]:
    """Decode, classify and route a batch; one outcome per mention or per undecodable record.

    `now` is when the batch is routed; None means event time, each mention's own `created_at`,
    which is how a replay routes the past as it happened. A record whose routing raises is
    dead-lettered with the error, so that one poison record never holds back the others.
    """
    decoded = [_decode(record) for record in records]
    try:
        # One classifier call per batch: vectorising many texts at once is what makes it fast.
        texts = [mention.text for mentions in decoded if isinstance(mentions, list) for mention in mentions]
        classifications = iter(router.classifier.classify(texts))
        return [outcome for record, mentions in zip(records, decoded)
                for outcome in _route_record(record, mentions, classifications, router, now)]
    except Exception:  # noqa: BLE001 - find the record that raised; route the others alone
        return [outcome for record, mentions in zip(records, decoded)
                for outcome in _route_alone(record, mentions, router, now)]


def _route_record(record: Record, mentions: "list[Mention] | DeadLettered", classifications: Iterator[Classification],
                  router: Router, now: datetime | None) -> list[Outcome]:
    if isinstance(mentions, DeadLettered):
        return [mentions]
    return [_route(record, mention, next(classifications), router, now) for mention in mentions]


def _route_alone(record: Record, mentions: "list[Mention] | DeadLettered", router: Router,
                 now: datetime | None) -> list[Outcome]:
    if isinstance(mentions, DeadLettered):
        return [mentions]
    try:
        classifications = iter(router.classifier.classify([mention.text for mention in mentions]))
        return _route_record(record, mentions, classifications, router, now)
    except Exception as error:  # noqa: BLE001 - errors are data: the record is kept with the reason
        return [DeadLettered(record, f"routing failed: {type(error).__name__}: {error}"[:1000])]


def _decode(record: Record) -> list[Mention] | DeadLettered:
    try:
        return decode_record(record.value)
    except InvalidMention as error:
        return DeadLettered(record, str(error))


def _route(record: Record, mention: Mention, classification: Classification, router: Router,
           now: datetime | None) -> Routed:
    low_confidence = classification.confidence < router.threshold
    decision = router.config.decide(mention, classification, low_confidence=low_confidence)
    routing = {
        "label": classification.label,
        "confidence": round(classification.confidence, 4),
        "scores": {label: round(score, 4) for label, score in classification.scores.items()},
        "low_confidence": low_confidence,
        **decision.as_dict(),
        "config_hash": router.config.hash,
        "model_version": router.classifier.version,
        "routed_at": (now or mention.created_at).isoformat(),
    }
    return Routed(record, mention, classification, low_confidence, decision, routing)


def messages_for(outcome: Outcome, *, decisions_topic: str, dead_letter_topic: str) -> list[Message]:
    """The records an outcome produces: queue copies plus the decision, or one dead letter."""
    if isinstance(outcome, DeadLettered):
        return [Message(dead_letter_topic, outcome.record.key, _dumps(dead_letter_document(outcome)))]
    key = outcome.mention.partition_key.encode()
    delivered = _dumps({**outcome.mention.model_dump(mode="json", exclude_none=True), "routing": outcome.routing})
    decision = _dumps(decision_document(outcome))
    return [Message(queue, key, delivered) for queue in outcome.decision.queues] + [
        Message(decisions_topic, key, decision)
    ]


def decision_document(outcome: Routed) -> dict:
    """The audit record of one decision: which mention, and why it went where it went."""
    mention = outcome.mention
    return {
        "mention_id": mention.id,
        "source": mention.source,
        "created_at": mention.created_at.isoformat(),
        "thread_id": mention.thread_id,
        "routing": outcome.routing,
    }


# A dead letter keeps at most this much of the original, so that it always fits in one Kafka record;
# the input coordinates say where the whole record can be read back while retention lasts.
DEAD_LETTER_PREFIX_BYTES = 64 * 1024


def dead_letter_document(outcome: DeadLettered) -> dict:
    record = outcome.record
    value = record.value
    document = {"reason": outcome.reason, "topic": record.topic, "partition": record.partition,
                "offset": record.offset}
    if value is None:
        return {**document, "original": None, "original_bytes": 0}
    prefix = value[:DEAD_LETTER_PREFIX_BYTES]
    return {
        **document,
        "original": base64.b64encode(prefix).decode("ascii"),
        "original_bytes": len(value),
        "original_sha256": hashlib.sha256(value).hexdigest(),
        "truncated": len(prefix) < len(value),
    }


def _dumps(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
