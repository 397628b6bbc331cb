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
from router.conversations import Claim, Conversation, Conversations, Entry
from router.crisis.detector import Feeder, Verdict
from router.crisis.signals import Signal, signal_of
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
    headers: tuple[tuple[str, bytes], ...] = ()  # the record's Kafka headers, which the careful stage carries on


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
    claim_key: str = ""  # what `routing.claims` records are keyed by: the thread's id, else the mention's
    claim: Claim | None = None  # the conversation's latest claim when the mention was routed

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
            "stage": classification.stage,
            **self.decision.as_dict(),
            "config_hash": self.config_hash,
            "model_version": self.model_version,
            "routed_at": _isoformat(self.routed_at),
            "thread_owner": self.decision.thread_owner,
            "claim_key": self.claim_key,
            "claimed_by": self.claim.claimed_by if self.claim else None,
            "claimed_at": self.claim.at.isoformat() if self.claim else None,
            "incident_id": self.decision.incident,
        }


class Routed:
    """A mention with the decision made for it; read-only.

    `routing`, the why that travels with the mention, and its document are built on first use: a replay that
    only counts outcomes never pays for them. `changes` are the conversation changelog entries its decision made;
    `detection` is what the crisis detector said when fed the mention (its incident, events and changelog entries).
    """

    __slots__ = ("record", "mention", "classification", "low_confidence", "decision", "router", "now", "conversation",
                 "changes", "detection", "_routing", "_document", "_json")

    def __init__(self, record: Record, mention: Mention, classification: Classification, low_confidence: bool,
                 decision: Decision, router: Router, now: datetime | None, conversation: Conversation | None = None,
                 changes: tuple[Entry, ...] = (), detection: Verdict | None = None) -> None:
        self.record = record
        self.mention = mention
        self.classification = classification
        self.low_confidence = low_confidence
        self.decision = decision
        self.router = router
        self.now = now  # when the batch was routed; None routes at event time
        self.conversation = conversation  # what the state held for its claim key when it was routed
        self.changes = changes
        self.detection = detection
        self._routing: Routing | None = None
        self._document: dict | None = None
        self._json: bytes | None = None

    @property
    def routing(self) -> Routing:
        if self._routing is None:
            router = self.router
            self._routing = Routing(self.classification, self.low_confidence, self.decision, router.config.hash,
                                    router.classifier.version, self.now or self.mention.created_at,
                                    self.mention.partition_key, self.conversation.claim if self.conversation else None)
        return self._routing

    def routing_document(self) -> dict:
        """`routing.as_document()`, built once: the queue copies and the decision all carry it."""
        if self._document is None:
            self._document = self.routing.as_document()
        return self._document

    def routing_json(self) -> bytes:
        """`routing_document()` as JSON, written once: the queue copies and the decision splice in the same bytes."""
        if self._json is None:
            self._json = _dumps(self.routing_document())
        return self._json

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


# Per record: the classifications of its mentions, in order, or the dead letter it became.
Classified = list[Classification] | DeadLettered


def route_batch(records: Sequence[Record], router: Router, now: datetime | None,
                conversations: Conversations | None = None, detector: Feeder | None = None) -> list[Outcome]:
    """Decode, classify and route a batch; one outcome per mention or per undecodable record.

    `now` is when the batch is routed; None means event time, each mention's own `created_at`,
    which is how a replay routes the past as it happened. A record whose routing raises is
    dead-lettered with the error, so that one poison record never holds back the others. With
    `conversations`, mentions are routed one after the other against it and update it (see `decide_batch`);
    with a crisis `detector`, each is fed to it in turn and routed in the incident it says (see `decide_batch`).
    """
    decoded = decode_batch(records)
    return decide_batch(records, decoded, classify_batch(records, decoded, router.classifier), router, now,
                        conversations, detector)


def decode_batch(records: Sequence[Record]) -> "list[list[Mention] | DeadLettered]":
    """Each record's mentions, or the dead letter it became."""
    return [_decode(record) for record in records]


def classify_batch(records: Sequence[Record], decoded: "list[list[Mention] | DeadLettered]",
                   classifier: Classifier) -> list[Classified]:
    """Each record's classifications; one classifier call for the batch, or one per record if that call raises."""
    try:
        # One classifier call per batch: vectorising many texts at once is what makes it fast.
        batch = [mention for found in decoded if isinstance(found, list) for mention in found]
        classifications = iter(classifier.classify([m.text for m in batch], [m.lang for m in batch]))
        return [mentions if isinstance(mentions, DeadLettered) else _take(classifications, len(mentions))
                for mentions in decoded]
    except Exception:  # noqa: BLE001 - find the record that raised; classify the others alone
        return [_classify_alone(record, mentions, classifier) for record, mentions in zip(records, decoded)]


def decide_batch(records: Sequence[Record], decoded: "list[list[Mention] | DeadLettered]",
                 classified: list[Classified], router: Router, now: datetime | None,
                 conversations: Conversations | None = None, detector: Feeder | None = None) -> list[Outcome]:
    """The outcomes of classified records in order; a record whose routing raises is dead-lettered alone.

    With `conversations`, each mention is routed against what it holds for the mention's claim key (a
    reply keeps its thread's owner) and the owner a thread takes from its first routed mention is
    recorded in it, in input order: the same records in the same order make the same decisions. With a
    crisis `detector` (when the config has a `crisis:` section), each routed mention is fed to it in input
    order, and a mention of an open incident's scope is routed again in that incident, its override applied.
    """
    outcomes: list[Outcome] = []
    for record, mentions, classifications in zip(records, decoded, classified):
        if isinstance(mentions, DeadLettered):
            outcomes.append(mentions)
        elif isinstance(classifications, DeadLettered):
            outcomes.append(classifications)
        else:
            try:
                outcomes += _decide_record(record, mentions, classifications, router, now, conversations, detector)
            except Exception as error:  # noqa: BLE001 - errors are data: the record is kept with the reason
                outcomes.append(_failed(record, DeadLetterKind.ROUTING_FAILED, error))
    return outcomes


def _decide_record(record: Record, mentions: list[Mention], classifications: list[Classification], router: Router,
                   now: datetime | None, conversations: Conversations | None,
                   detector: Feeder | None = None) -> list[Outcome]:
    route, classifier = router.config.route, router.classifier
    outcomes: list[Outcome] = []
    for mention, classification in zip(mentions, classifications):  # in order: a comment may reply to the one before
        held = conversations.lookup(mention.partition_key) if conversations is not None else None
        decision, low_confidence = route(mention, classification, classifier=classifier, thread=held)
        signal = None if detector is None else crisis_signal(mention, classification, decision, router.config,
                                                             detector.words_of_uncounted)
        detection = detector.feed(signal) if detector is not None and signal is not None else None
        if detection is not None and detection.incident is not None:
            decision, low_confidence = route(mention, classification, classifier=classifier, thread=held,
                                             incident=detection.incident)
        changes = remember(conversations, mention, decision) if conversations is not None else ()
        outcomes.append(Routed(record, mention, classification, low_confidence, decision, router, now, held, changes,
                               detection))
    return outcomes


def crisis_signal(mention: Mention, classification: Classification, decision: Decision,
                  config: RoutingConfig, words_of_uncounted: bool = True) -> Signal | None:
    """What the crisis detector reads of a mention routed without an incident; None when the config has no crisis."""
    if config.crisis is None:
        return None
    return signal_of(mention, classification.label, decision.crisis, config.model.unit_of(mention), config.crisis,
                     words_of_uncounted)


def remember(conversations: Conversations, mention: Mention, decision: Decision) -> tuple[Entry, ...]:
    """A thread without an owner takes its first routed mention's; the changelog entries this made, if any."""
    if mention.thread_id is None or not decision.seeds_thread:
        return ()
    return conversations.record(mention.partition_key, mention.id, decision.owner)


def _take(classifications: Iterator[Classification], count: int) -> list[Classification]:
    taken = [classification for _, classification in zip(range(count), classifications)]
    if len(taken) < count:
        raise ValueError("the classifier gave fewer classifications than it was given texts")
    return taken


def _classify_alone(record: Record, mentions: "list[Mention] | DeadLettered", classifier: Classifier) -> Classified:
    if isinstance(mentions, DeadLettered):
        return mentions
    try:
        return _take(iter(classifier.classify([m.text for m in mentions], [m.lang for m in mentions])), len(mentions))
    except Exception as error:  # noqa: BLE001 - errors are data: the record is kept with the reason
        return _failed(record, DeadLetterKind.ROUTING_FAILED, error)


def _decode(record: Record) -> list[Mention] | DeadLettered:
    try:
        return decode_record(record.value)
    except InvalidMention as error:
        return DeadLettered(record, str(error), error.kind)
    except Exception as error:  # noqa: BLE001 - a decoding bug dead-letters one record, not the batch
        return _failed(record, DeadLetterKind.DECODING_FAILED, error)


def _failed(record: Record, kind: DeadLetterKind, error: Exception) -> DeadLettered:
    return DeadLettered(record, f"{kind}: {type(error).__name__}: {error}"[:1000], kind)


def messages_for(outcome: Outcome, *, decisions_topic: str, dead_letter_topic: str,
                 changelog_topic: str | None = None) -> list[Message]:
    """The records an outcome produces: queue copies plus the decision, or one dead letter.

    With `changelog_topic`, the conversation changelog entries its decision made follow the decision.
    """
    if isinstance(outcome, DeadLettered):
        # The standard library writes the rare dead letter: orjson reserves several times a long string's size.
        return [Message(dead_letter_topic, outcome.record.key, _json_dumps(dead_letter_document(outcome)))]
    key = outcome.mention.partition_key.encode()
    delivered = delivered_value(outcome)
    decision = _with_routing(_dumps(_decision_head(outcome.mention)), outcome)
    changes = [Message(changelog_topic, entry.key, entry.value) for entry in outcome.changes] if changelog_topic else []
    return [Message(queue, key, delivered) for queue in outcome.decision.queues] + [
        Message(decisions_topic, key, decision), *changes
    ]


def delivered_value(routed: Routed) -> bytes:
    """The mention as the queues receive it: its own fields, then `routing`."""
    mention = routed.mention
    if "routing" in (mention.model_extra or {}):  # the producer's own `routing` keeps its place, with ours in it
        return _dumps({**mention.model_dump(mode="json", exclude_none=True), "routing": routed.routing_document()})
    # pydantic writes the mention's JSON itself, as model_dump(mode="json") would have given it, without the
    # detour through Python objects; `routing` is appended before the closing brace.
    return _with_routing(mention.__pydantic_serializer__.to_json(mention, exclude_none=True), routed)


def _with_routing(document: bytes, routed: Routed) -> bytes:
    """A JSON object's bytes with `"routing": ...` appended as its last member."""
    return b"".join((document[:-1], b',"routing":', routed.routing_json(), b"}"))


def decision_document(outcome: Routed) -> dict:
    """The audit record of one decision: which mention, and why it went where it went."""
    return {**_decision_head(outcome.mention), "routing": outcome.routing_document()}


def _decision_head(mention: Mention) -> dict:
    return {"mention_id": mention.id, "source": mention.source, "created_at": mention.created_at.isoformat(),
            "thread_id": mention.thread_id}


_last_isoformat: tuple[datetime | None, str] = (None, "")


def _isoformat(moment: datetime) -> str:
    """moment.isoformat(); a worker's batch routes every mention at the same moment, formatted once."""
    global _last_isoformat
    last = _last_isoformat  # read once: the pair stays consistent whatever another thread does
    if last[0] is not moment:
        last = _last_isoformat = (moment, moment.isoformat())
    return last[1]


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
