"""Replay records through the worker's own pipeline, in batches, at event time, threads and incidents included."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from router.conversations import Conversations, Entry
from router.crisis.detector import Assigned, Detector, Feeder, Recorder
from router.crisis.events import IncidentEvent
from router.crisis.settings import Incident
from router.crisis.signals import Signal
from router.pipeline import (
    Classified,
    Outcome,
    Record,
    Routed,
    Router,
    classify_batch,
    decide_batch,
    decode_batch,
    route_batch,
)

BATCH_SIZE = 1000


def batches(records: Iterable[Record], size: int = BATCH_SIZE) -> Iterator[list[Record]]:
    """Consecutive batches of at most `size` records; only one batch is held at a time."""
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def replay(records: Iterable[Record], router: Router, batch_size: int = BATCH_SIZE,
           conversations: Conversations | None = None, detector: Feeder | None = None) -> Iterator[Outcome]:
    """One outcome per mention or undecodable record, in archive order."""
    for outcomes in replay_batches(records, router, batch_size, conversations, detector):
        yield from outcomes


def replay_batches(records: Iterable[Record], router: Router, batch_size: int = BATCH_SIZE,
                   conversations: Conversations | None = None,
                   detector: Feeder | None = None) -> Iterator[list[Outcome]]:
    """The outcomes of `replay`, a batch at a time.

    `now=None` makes each decision's `routed_at` the mention's own `created_at`: the past replays as
    it happened, and the output does not depend on when the replay runs. With `conversations`, replies
    keep their thread's owner as in the worker, the archive's order being the order of arrival; with a crisis
    `detector`, incidents open and resolve on the mentions' own times, as the worker's would.
    """
    for batch in batches(records, batch_size):
        yield route_batch(batch, router, None, conversations, detector)


def replay_pairs(records: Iterable[Record], before: Router, after: Router, batch_size: int = BATCH_SIZE,
                 conversations: tuple[Conversations, Conversations] | None = None,
                 detectors: tuple[Feeder | None, Feeder | None] = (None, None)) -> Iterator[tuple[Outcome, Outcome]]:
    """The same records through two routers, outcome by outcome, reading the archive once; each its own threads."""
    old, new = conversations or (None, None)
    for batch in batches(records, batch_size):
        # Decoding does not depend on the router, so both lists line up one to one.
        yield from zip(route_batch(batch, before, None, old, detectors[0]),
                       route_batch(batch, after, None, new, detectors[1]), strict=True)


@dataclass(frozen=True)
class Prepared:
    """A chunk classified, and what routing it alone, as if it opened the archive, said of its threads.

    A chunk routed in parallel with the ones before it does not know the owners their threads took;
    this is what `ThreadsSoFar` needs to tell it, before `finish` routes it for good.
    """

    classified: list[Classified]  # per record, batch by batch as one process classifies them
    keys: tuple[str, ...]  # the claim key of every mention in the chunk
    seeds: tuple[Entry, ...]  # the owners threads took in the chunk
    signals: tuple[Signal, ...] = ()  # what the crisis detector reads of each routed mention, in order


def prepare(records: list[Record], router: Router, batch_size: int = BATCH_SIZE) -> Prepared:
    """Classify a chunk and route it alone; the first half of routing it in parallel with other chunks."""
    alone = Conversations()
    # What the detector reads of a mention does not depend on its thread or its incident: it is known now.
    signals = Recorder()
    classified: list[Classified] = []
    keys: dict[str, None] = {}
    for batch in batches(records, batch_size):
        decoded = decode_batch(batch)
        batch_classified = classify_batch(batch, decoded, router.classifier)
        for outcome in decide_batch(batch, decoded, batch_classified, router, None, alone, signals):
            if isinstance(outcome, Routed):
                keys[outcome.mention.partition_key] = None
        classified += batch_classified
    return Prepared(classified, tuple(keys), tuple(alone.entries()), tuple(signals.signals))


def finish(records: list[Record], router: Router, prepared: Prepared, known: Iterable[Entry],
           incidents: Sequence[Incident | None] = ()) -> list[Outcome]:
    """The chunk's outcomes, routed against the thread owners `known` from earlier chunks, as `replay` routes them.

    `incidents` are those the detector of the whole archive gave the chunk's signals, one per signal in order.
    """
    conversations = Conversations()
    for entry in known:
        conversations.restore(*entry)
    return decide_batch(records, decode_batch(records), prepared.classified, router, None, conversations,
                        Assigned(incidents))


class ThreadsSoFar:
    """The owners threads took in the chunks prepared so far, in archive order: what each next chunk must know.

    A thread keeps the owner of its first routed mention, and which mention that is does not depend on
    any owner: the first chunk to seed a thread seeds it for the whole archive.
    """

    def __init__(self) -> None:
        self._owners = Conversations()

    def known_to(self, prepared: Prepared) -> list[Entry]:
        """The entries of the chunk's keys seeded before it; then the chunk's own seeds count for the next ones."""
        known = [entry for entry in map(self._owners.entry, prepared.keys) if entry is not None]
        for entry in prepared.seeds:
            if self._owners.lookup(entry.key.decode()) is None:
                self._owners.restore(*entry)
        return known


class Detected(NamedTuple):
    """What the archive's detector said of one chunk: each signal's incident, and the incident events."""

    incidents: list[Incident | None]
    events: list[IncidentEvent]


class IncidentsSoFar:
    """The crisis detector of the whole archive, fed each prepared chunk's signals in archive order.

    Counting is cheap next to classifying: one process does it for every chunk, between the two halves.
    """

    def __init__(self, detector: Detector | None) -> None:
        self._detector = detector

    def detect(self, prepared: Prepared) -> Detected:
        detected = Detected([], [])
        if self._detector is None:
            return detected
        for signal in prepared.signals:
            verdict = self._detector.feed(signal)
            detected.incidents.append(verdict.incident)
            detected.events.extend(verdict.events)
        return detected
