"""Routing a fetched batch into the messages to produce, in the event loop or in routing processes.

Classifying is CPU work that would stall the event loop while the previous batch's sends wait for
their acknowledgements. With `INBOX_ROUTING_PROCESSES` >= 1 the whole pure path (decode, classify,
decide, serialise) runs in processes of its own (processes.py), so that the loop only moves bytes
between Kafka and them.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import structlog

from router.classify.classifier import Classifier
from router.classify.model import ModelFiles
from router.conversations import Conversations
from router.corrections import correction_problem
from router.crisis.live import Live, OpenIncidents, signal_record
from router.crisis.settings import Incident
from router.errors import DeadLetterKind
from router.pipeline import DeadLettered, Message, Outcome, Record, Router, messages_for
from router.rules import ConfigHolder, RoutingConfig
from router.settings import Settings
from router.worker.delivery import Outgoing
from router.worker.fault_injection import RaisingClassifier
from router.worker.lanes import fast_lane, handed_on, route_fast, route_labelled
from router.worker.models import ModelHolder

log = structlog.get_logger("router.worker")


@dataclass(slots=True)
class Tally:
    """What the loop counts in its metrics once a batch is delivered."""

    routed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (label, owner)
    dead: Counter[str] = field(default_factory=Counter)  # by kind
    produced_at: list[float] = field(default_factory=list)  # each routed record's timestamp
    careful: int = 0  # records handed to the careful lane

    @property
    def outcomes(self) -> int:
        return sum(self.routed.values()) + sum(self.dead.values())

    def add(self, other: "Tally") -> None:
        self.routed.update(other.routed)
        self.dead.update(other.dead)
        self.produced_at.extend(other.produced_at)
        self.careful += other.careful


@dataclass(frozen=True, slots=True)
class RoutedBatch:
    # Plain (topic, key, value) tuples: they cross a pipe in bulk, and unpickling a named tuple calls its
    # constructor once per message.
    messages: list[Outgoing]
    tally: Tally

    @classmethod
    def joined(cls, shares: "Sequence[RoutedBatch]") -> "RoutedBatch":
        """One batch from its shares: each share's messages keep their order, which is all a thread needs."""
        if len(shares) == 1:
            return shares[0]
        tally = Tally()
        for share in shares:
            tally.add(share.tally)
        return cls([message for share in shares for message in share.messages], tally)


class Shard:
    """Routes one share of the worker's records: the model, and the conversations of the keys in that share.

    A share holds every record of its keys, so that a thread's mentions and claims meet the state they change,
    in the order they were read.
    """

    def __init__(self, settings: Settings, classifier: Classifier):
        self._settings, self.classifier = settings, classifier
        self.conversations = Conversations()
        self._side_topics = frozenset({settings.claims_topic, settings.corrections_topic})

    def route(self, records: Sequence[Record], config: RoutingConfig,
              incidents: Mapping[str, Incident] | None = None) -> RoutedBatch:
        """The share's messages and tally; its claims are folded in before its mentions are routed.

        With a crisis section, mentions of a scope in `incidents` are routed in its incident, and the signals
        of the mentions that count (or were routed in an incident) go to the detector in the same delivery.
        """
        settings, side_topics = self._settings, self._side_topics
        side = [record for record in records if record.topic in side_topics]
        mentions = [record for record in records if record.topic not in side_topics] if side else records
        messages: list[Outgoing] = []
        outcomes: list[Outcome] = []
        for record in side:
            if record.topic == settings.corrections_topic:  # only checked here: `corrections export` reads them
                outcomes += _refused(record, DeadLetterKind.INVALID_CORRECTION, correction_problem(record.value))
                continue
            folded = self.conversations.fold_claim(record.key, record.value)
            messages += [(settings.threads_topic, entry.key, entry.value) for entry in folded.entries]
            outcomes += _refused(record, DeadLetterKind.INVALID_CLAIM, folded.problem)
        detecting = config.crisis is not None and config.crisis.enabled  # off: no incident resolves, none applies
        live = Live(incidents or {}) if detecting else None
        routed, handed = self._route_mentions(mentions, config, live)
        outcomes += routed
        messages += [(topic, key, value) for outcome in outcomes
                     for topic, key, value in fitted_messages(outcome, settings)]
        messages += handed
        if live is not None:
            messages += [(settings.signals_topic, *signal_record(signal)) for signal in live.signals()]
        tally = _tally(outcomes)
        tally.careful = len(handed)
        return RoutedBatch(messages, tally)

    def _route_mentions(self, records: Sequence[Record], config: RoutingConfig,
                        live: Live | None) -> tuple[list[Outcome], list[Outgoing]]:
        """The outcomes of the share's mentions, and the records it hands to the careful lane.

        Those back from the careful lane go first: they came before the others.
        """
        settings = self._settings
        router, now = Router(fast_lane(self.classifier, config), config), datetime.now(timezone.utc)
        labelled = [record for record in records if record.topic == settings.labelled_topic]
        outcomes: list[Outcome] = []
        if labelled:
            records = [record for record in records if record.topic != settings.labelled_topic]
            outcomes += route_labelled(labelled, router, now, self.conversations, live)
        routed, waiting = route_fast(records, router, now, self.conversations, live)
        outcomes += routed
        handed: list[Outgoing] = []
        for record in waiting:
            message = handed_on(record, settings.careful_topic, settings.max_message_bytes)
            if isinstance(message, DeadLettered):
                outcomes.append(message)
            else:
                handed.append(message)
        return outcomes, handed

    def restore(self, entries: Sequence[tuple[bytes | None, bytes | None]]) -> int:
        """Apply changelog entries; the number refused, each logged."""
        refused = 0
        for key, value in entries:
            problem = self.conversations.restore(key, value) if key is not None else "the entry has no key"
            if problem is not None:
                refused += 1
                log.warning("conversation.entry_refused", key=(key or b"").decode(errors="replace")[:200],
                            reason=problem)
        return refused


def _refused(record: Record, kind: DeadLetterKind, problem: str | None) -> list[Outcome]:
    """The dead letter of a claim or correction that breaks the rules; none when `problem` is None."""
    return [] if problem is None else [DeadLettered(record, f"{kind}: {problem}", kind)]


def fitted_messages(outcome: Outcome, settings: Settings) -> list[Message]:
    """The outcome's messages; one that would not fit in a Kafka record turns the outcome into a dead letter."""
    topics = {"decisions_topic": settings.decisions_topic, "dead_letter_topic": settings.dead_letter_topic}
    messages = messages_for(outcome, **topics, changelog_topic=settings.threads_topic)
    largest = max(len(message.value) + len(message.key or b"") for message in messages)
    if largest <= settings.max_message_bytes:
        return messages
    kind = DeadLetterKind.OUTPUT_TOO_LARGE
    reason = f"{kind}: {largest} bytes, limit {settings.max_message_bytes}"
    return messages_for(DeadLettered(outcome.record, reason, kind), **topics)


def _tally(outcomes: list[Outcome]) -> Tally:
    tally = Tally()
    # Checked once a batch: at INFO the per-mention line would otherwise be built and dropped for every mention.
    debug = log.is_enabled_for(logging.DEBUG)
    for outcome in outcomes:
        record = outcome.record
        if isinstance(outcome, DeadLettered):
            tally.dead[outcome.kind.value] += 1
            log.warning("mention.dead_lettered", reason=outcome.reason, topic=record.topic,
                        partition=record.partition, offset=record.offset)
            continue
        tally.routed[outcome.classification.label, outcome.decision.owner] += 1
        tally.produced_at.append(record.timestamp)
        if debug:
            log.debug("mention.routed", id=outcome.mention.id, source=outcome.mention.source,
                      label=outcome.classification.label, confidence=outcome.routing.confidence,
                      owner=outcome.decision.owner, queues=list(outcome.decision.queues),
                      route="/".join(outcome.decision.route), partition=record.partition, offset=record.offset)
    return tally


def load_classifier(settings: Settings, files: ModelFiles) -> Classifier:
    classifier = files.load()
    return RaisingClassifier(classifier, settings.fail_routing_on) if settings.fail_routing_on else classifier


class InlineRouting:
    """Routes in the event loop: one process, for a small deployment or a machine with one core."""

    def __init__(self, settings: Settings, holder: ConfigHolder, models: ModelHolder):
        self._settings, self._holder, self._models = settings, holder, models
        self._model = models.current
        self._shard = Shard(settings, load_classifier(settings, self._model))
        self.model_version = self._shard.classifier.version
        self.incidents = OpenIncidents()  # kept up to date by the worker's incident watch

    async def route(self, records: Sequence[Record]) -> RoutedBatch:
        if self._models.current is not self._model:  # a reloaded model, checked already: it loads
            self._model = self._models.current
            self._shard.classifier = load_classifier(self._settings, self._model)
        return self._shard.route(records, self._holder.current, self.incidents.current())

    async def restore(self, entries: Sequence[tuple[bytes | None, bytes | None]]) -> int:
        return self._shard.restore(entries)

    async def watch(self) -> None:
        """Nothing to watch: routing in the loop fails in the loop."""
        await asyncio.Event().wait()

    def stop(self) -> None:
        pass
