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
from typing import NamedTuple

import orjson

from router.classify.classifier import Classifier
from router.classify.labels import Classification
from router.errors import DeadLetterKind, InvalidMention
from router.mentions import Mention, decode_record
from router.rules import Decision, RoutingConfig


class Record(NamedTuple):
    """A raw inbound record and where it was read from.

    A named tuple: a replay builds one per line, and it costs a quarter of a frozen dataclass to build.
    """

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
        return self.config.threshold(self.classifier)


@dataclass(frozen=True, slots=True)
class Routing:
    """Why a mention went where it went: its classification, the decision, and what made them."""

    classification: Classification
    low_confidence: bool
    decision: Decision
    config_hash: str
    model_version: str
    routed_at: datetime

    @property
    def confidence(self) -> float:
        """The label's probability as the documents give it, to four decimals."""
        return round(self.classification.confidence, 4)

    def as_document(self) -> dict:
        """The `routing` object of a decision and of a delivered mention; its keys' order is part of the format."""
        classification = self.classification
        return {
            "label": classification.label,
            "confidence": self.confidence,
            "scores": {label: round(score, 4) for label, score in classification.scores.items()},
            "low_confidence": self.low_confidence,
            "low_confidence_reason": classification.low_confidence_reason(self.low_confidence),
            "lang": classification.lang,
            **self.decision.as_dict(),
            "config_hash": self.config_hash,
            "model_version": self.model_version,
            "routed_at": self.routed_at.isoformat(),
        }


class Routed:
    """A mention with the decision made for it; read-only.

    `routing`, the why that travels with the mention, and its document are built on first use: a replay that
    only counts outcomes never pays for them.
    """

    __slots__ = ("record", "mention", "classification", "low_confidence", "decision", "router", "now", "_routing",
                 "_document")

    def __init__(self, record: Record, mention: Mention, classification: Classification, low_confidence: bool,
                 decision: Decision, router: Router, now: datetime | None) -> None:
        self.record = record
        self.mention = mention
        self.classification = classification
        self.low_confidence = low_confidence
        self.decision = decision
        self.router = router
        self.now = now  # when the batch was routed; None routes at event time
        self._routing: Routing | None = None
        self._document: dict | None = None

    @property
    def routing(self) -> Routing:
        if self._routing is None:
            router = self.router
            self._routing = Routing(self.classification, self.low_confidence, self.decision, router.config.hash,
                                    router.classifier.version, self.now or self.mention.created_at)
        return self._routing

    def routing_document(self) -> dict:
        """`routing.as_document()`, built once: the queue copies and the decision all carry it."""
        if self._document is None:
            self._document = self.routing.as_document()
        return self._document

    def __repr__(self) -> str:
        return f"Routed(mention={self.mention.id!r}, decision={self.decision!r})"


@dataclass(frozen=True, slots=True)
class DeadLettered:
    """A record that is not a mention, kept whole with the reason, which starts with the reason's kind."""

    record: Record
    reason: str
    kind: DeadLetterKind


Outcome = Routed | DeadLettered


class Message(NamedTuple):
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
        mentions = [mention for found in decoded if isinstance(found, list) for mention in found]
        classifications = iter(router.classifier.classify([m.text for m in mentions], [m.lang for m in mentions]))
        return _route_records(records, decoded, classifications, router, now)
    except Exception:  # noqa: BLE001 - find the record that raised; route the others alone
        return [outcome for record, mentions in zip(records, decoded)
                for outcome in _route_alone(record, mentions, router, now)]


def _route_records(records: Sequence[Record], decoded: "list[list[Mention] | DeadLettered]",
                   classifications: Iterator[Classification], router: Router, now: datetime | None) -> list[Outcome]:
    """The outcomes of decoded records in order, each mention taking the next classification."""
    route, classifier = router.config.route, router.classifier
    outcomes: list[Outcome] = []
    for record, mentions in zip(records, decoded):
        if isinstance(mentions, DeadLettered):
            outcomes.append(mentions)
            continue
        for mention in mentions:
            classification = next(classifications)
            decision, low_confidence = route(mention, classification, classifier=classifier)
            outcomes.append(Routed(record, mention, classification, low_confidence, decision, router, now))
    return outcomes


def _route_alone(record: Record, mentions: "list[Mention] | DeadLettered", router: Router,
                 now: datetime | None) -> list[Outcome]:
    if isinstance(mentions, DeadLettered):
        return [mentions]
    try:
        classifications = iter(router.classifier.classify([m.text for m in mentions], [m.lang for m in mentions]))
        return _route_records([record], [mentions], classifications, router, now)
    except Exception as error:  # noqa: BLE001 - errors are data: the record is kept with the reason
        return [_failed(record, DeadLetterKind.ROUTING_FAILED, error)]


def _decode(record: Record) -> list[Mention] | DeadLettered:
    try:
        return decode_record(record.value)
    except InvalidMention as error:
        return DeadLettered(record, str(error), error.kind)
    except Exception as error:  # noqa: BLE001 - a decoding bug dead-letters one record, not the batch
        return _failed(record, DeadLetterKind.DECODING_FAILED, error)


def _failed(record: Record, kind: DeadLetterKind, error: Exception) -> DeadLettered:
    return DeadLettered(record, f"{kind}: {type(error).__name__}: {error}"[:1000], kind)


def messages_for(outcome: Outcome, *, decisions_topic: str, dead_letter_topic: str) -> list[Message]:
    """The records an outcome produces: queue copies plus the decision, or one dead letter."""
    if isinstance(outcome, DeadLettered):
        # The standard library writes the rare dead letter: orjson reserves several times a long string's size.
        return [Message(dead_letter_topic, outcome.record.key, _json_dumps(dead_letter_document(outcome)))]
    key = outcome.mention.partition_key.encode()
    delivered = delivered_value(outcome)
    decision = _dumps(decision_document(outcome))
    return [Message(queue, key, delivered) for queue in outcome.decision.queues] + [
        Message(decisions_topic, key, decision)
    ]


def delivered_value(routed: Routed) -> bytes:
    """The mention as the queues receive it: its own fields, then `routing`."""
    mention = routed.mention
    if "routing" in (mention.model_extra or {}):  # the producer's own `routing` keeps its place, with ours in it
        return _dumps({**mention.model_dump(mode="json", exclude_none=True), "routing": routed.routing_document()})
    # pydantic writes the mention's JSON itself, as model_dump(mode="json") would have given it, without the
    # detour through Python objects; `routing` is appended before the closing brace.
    fields = mention.__pydantic_serializer__.to_json(mention, exclude_none=True)
    return b"".join((fields[:-1], b',"routing":', _dumps(routed.routing_document()), b"}"))


def decision_document(outcome: Routed) -> dict:
    """The audit record of one decision: which mention, and why it went where it went."""
    mention = outcome.mention
    return {
        "mention_id": mention.id,
        "source": mention.source,
        "created_at": mention.created_at.isoformat(),
        "thread_id": mention.thread_id,
        "routing": outcome.routing_document(),
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
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # what orjson does not write (integers beyond 64 bits): the standard library does
        return _json_dumps(document)


def _json_dumps(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
