"""Replay in parts: archives cut into chunks of whole batches, routed here or by worker processes, merged in order.

A chunk is routed by the same code whichever process runs it, and parts come back in input order, so
`--jobs N` writes the same lines in the same order, and counts the same summary, as `--jobs 1`. A reply
keeps its thread's owner even when the thread began in an earlier chunk: with several processes each
chunk is first classified and routed alone (`prepare`), then, once the owners the chunks before it gave
their threads are known, routed for good (`finish`). Incidents likewise: between the two halves, this
process feeds the chunk's signals to the one crisis detector of the whole archive, and `finish` routes
each mention in the incident it gave.
"""

import gc
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from threadpoolctl import threadpool_limits

from router.classify.careful import for_config
from router.classify.classifier import load_model
from router.conversations import Conversations, Entry
from router.crisis.detector import Detector, detector_for
from router.crisis.events import IncidentEvent
from router.crisis.settings import Incident
from router.pipeline import Outcome, Record, Routed, Router
from router.replay.diff import Diff
from router.replay.engine import (
    IncidentsSoFar,
    Prepared,
    ThreadsSoFar,
    batches,
    finish,
    prepare,
    replay_batches,
    replay_pairs,
)
from router.replay.output import OutputDir, line, outcome_line
from router.replay.progress import Progress
from router.replay.summary import Summary
from router.rules import load_config

# Batches per chunk: enough to make handing a chunk to a process cheap next to routing it, few enough that
# the chunks in flight stay a few MiB.
CHUNK_BATCHES = 10
IN_FLIGHT_PER_JOB = 2  # chunks queued per process, so that none waits while the next chunk is read


Counts = TypeVar("Counts", Summary, Diff)


@dataclass
class Part(Generic[Counts]):
    """What one chunk gave: its counts, its output lines per stream in order, and how many outcomes."""

    counts: Counts
    lines: dict[str, list[bytes]] = field(default_factory=dict)
    outcomes: int = 0


@dataclass(frozen=True)
class RouterSpec:
    """Where a router is loaded from: picklable, so that a worker process loads its own once."""

    config: Path
    model: Path | None  # None: the shipped model

    def load(self) -> Router:
        config = load_config(self.config)
        return Router(for_config(load_model(self.model), config), config)


class Summarise:
    """A chunk's summary and, when writing, its decisions, dead letters and incident events."""

    streams = ("decisions", "dead-letters", "incidents")
    lanes = 1

    def __init__(self, spec: RouterSpec, batch_size: int, write: bool, router: Router | None = None) -> None:
        self.spec, self.batch_size, self.write = spec, batch_size, write
        self._router = router
        self._conversations = Conversations()  # the threads of the chunks routed here so far
        self._detector: Detector | None = None  # the incidents of the chunks routed here so far

    def __getstate__(self) -> dict:
        # A worker loads its own router (a loaded model does not travel) and routes threads and incidents as
        # `finish` says.
        return {**self.__dict__, "_router": None, "_conversations": Conversations(), "_detector": None}

    def __call__(self, records: list[Record]) -> Part[Summary]:
        if self._detector is None:
            self._detector = detector_for(self.router.config.crisis, changelog=False)
        outcomes = replay_batches(records, self.router, self.batch_size, self._conversations, self._detector)
        return self._part(outcomes)

    def prepare(self, records: list[Record]) -> list[Prepared]:
        return [prepare(records, self.router, self.batch_size)]

    def finish(self, records: list[Record], prepared: list[Prepared], known: list[list[Entry]],
               incidents: list[list[Incident | None]]) -> Part[Summary]:
        return self._part([finish(records, self.router, prepared[0], known[0], incidents[0])])

    def detectors(self) -> list[Detector | None]:
        return [detector_for(self.router.config.crisis, changelog=False)]

    def note(self, part: Part[Summary], events: list[list[IncidentEvent]]) -> Part[Summary]:
        part.counts.add_incidents(events[0], self.router.config)
        if self.write:
            part.lines["incidents"] += [line(event.document()) for event in events[0]]
        return part

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = self.spec.load()
        return self._router

    def _part(self, batches_of_outcomes: Iterable[list[Outcome]]) -> Part[Summary]:
        part = Part(Summary(), {name: [] for name in self.streams})
        lines = part.lines
        events: list[IncidentEvent] = []
        for outcomes in batches_of_outcomes:
            part.outcomes += len(outcomes)
            part.counts.add_all(outcomes)
            events += incident_events(outcomes)
            if self.write:
                for stream, text in map(outcome_line, outcomes):
                    lines[stream].append(text)
        return self.note(part, [events])


class Compare:
    """A chunk through two routers: its diff and, when writing, its changes."""

    streams = ("changes",)
    lanes = 2

    def __init__(self, before: RouterSpec, after: RouterSpec, batch_size: int, write: bool,
                 routers: tuple[Router, Router] | None = None) -> None:
        self.before, self.after, self.batch_size, self.write = before, after, batch_size, write
        self._routers = routers
        self._conversations = Conversations(), Conversations()  # each router's threads: owners may differ
        self._detectors: tuple[Detector | None, Detector | None] | None = None  # and each its incidents

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_routers": None, "_conversations": (Conversations(), Conversations()),
                "_detectors": None}

    def __call__(self, records: list[Record]) -> Part[Diff]:
        if self._detectors is None:
            before, after = self.detectors()
            self._detectors = before, after
        return self._part(replay_pairs(records, *self.routers, self.batch_size, self._conversations, self._detectors))

    def prepare(self, records: list[Record]) -> list[Prepared]:
        return [prepare(records, router, self.batch_size) for router in self.routers]

    def finish(self, records: list[Record], prepared: list[Prepared], known: list[list[Entry]],
               incidents: list[list[Incident | None]]) -> Part[Diff]:
        before, after = (finish(records, router, chunk, entries, assigned)
                         for router, chunk, entries, assigned in zip(self.routers, prepared, known, incidents))
        return self._part(zip(before, after, strict=True))

    def detectors(self) -> list[Detector | None]:
        return [detector_for(router.config.crisis, changelog=False) for router in self.routers]

    def note(self, part: Part[Diff], events: list[list[IncidentEvent]]) -> Part[Diff]:
        for summary, router, lane in zip((part.counts.before, part.counts.after), self.routers, events):
            summary.add_incidents(lane, router.config)
        return part

    @property
    def routers(self) -> tuple[Router, Router]:
        if self._routers is None:
            before = self.before.load()
            # The same files load once: a diff of configs shares the classifier, as in this process.
            classifier = before.classifier if self.after.model == self.before.model else load_model(
                self.after.model)
            config = before.config if self.after.config == self.before.config else load_config(self.after.config)
            self._routers = before, Router(for_config(classifier, config), config)
        return self._routers

    def _part(self, pairs: Iterable[tuple[Outcome, Outcome]]) -> Part[Diff]:
        part = Part(Diff(), {name: [] for name in self.streams})
        events: tuple[list[IncidentEvent], list[IncidentEvent]] = ([], [])
        for old, new in pairs:
            change = part.counts.add(old, new)
            part.outcomes += 1
            events[0].extend(incident_events((old,)))
            events[1].extend(incident_events((new,)))
            if self.write and change:
                part.lines["changes"].append(line(change))
        return self.note(part, list(events))


class Task(Protocol[Counts]):
    """Routes a chunk of records into a part: Summarise or Compare."""

    batch_size: int
    lanes: int  # how many routers, each with its own threads

    def __call__(self, records: list[Record]) -> Part[Counts]: ...

    def prepare(self, records: list[Record]) -> list[Prepared]: ...

    def finish(self, records: list[Record], prepared: list[Prepared], known: list[list[Entry]],
               incidents: list[list[Incident | None]]) -> Part[Counts]: ...

    def detectors(self) -> list[Detector | None]: ...

    def note(self, part: Part[Counts], events: list[list[IncidentEvent]]) -> Part[Counts]: ...


def incident_events(outcomes: Iterable[Outcome]) -> list[IncidentEvent]:
    """The incident events the detector gave while routing these outcomes, in order."""
    return [event for outcome in outcomes if isinstance(outcome, Routed) and outcome.detection is not None
            for event in outcome.detection.events]


def summarise(records: Iterable[Record], task: Summarise, jobs: int = 1, out: OutputDir | None = None,
              progress: Progress | None = None) -> Summary:
    """The summary of routing the records on `jobs` processes; their decisions and dead letters go to `out`."""
    summary = Summary()
    for part in _written(parts(records, task, jobs), out, progress):
        summary.merge(part.counts)
    return summary


def compare(records: Iterable[Record], task: Compare, jobs: int = 1, out: OutputDir | None = None,
            progress: Progress | None = None) -> Diff:
    """The diff of routing the records with two routers on `jobs` processes; the changes go to `out`."""
    diff = Diff()
    for part in _written(parts(records, task, jobs), out, progress):
        diff.merge(part.counts)
    return diff


def _written(parts: Iterable[Part[Counts]], out: OutputDir | None,
             progress: Progress | None) -> Iterator[Part[Counts]]:
    for part in parts:
        if progress is not None:
            progress.mentions_done(part.outcomes)
        if out is not None:
            for stream, lines in part.lines.items():
                out.write_lines(stream, lines)
        yield part


def freeze_loaded() -> None:
    """Call once the routers are loaded: the collector stops rescanning them.

    Routing allocates many short-lived containers, so collections are frequent; without this every
    full one walks the hundreds of thousands of objects of the model, the config and the libraries.
    """
    gc.freeze()


def parts(records: Iterable[Record], task: Task[Counts], jobs: int) -> Iterator[Part[Counts]]:
    """The parts of the records in input order, routed by `jobs` processes (1: this one)."""
    chunks = batches(records, task.batch_size * CHUNK_BATCHES)  # whole batches: the same batches as one process
    if jobs == 1:
        yield from map(task, chunks)  # one task routes every chunk in turn, its threads carried from one to the next
        return
    # spawn, not fork: a forked child would inherit whatever threads and locks the parent holds; each worker
    # starts clean, with this process's CPU affinity, and loads its routers once.
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                               initargs=(task,))
    lanes = _Lanes(task)
    half = max(1, jobs * IN_FLIGHT_PER_JOB // 2)  # chunks in flight in each half: being prepared, being finished
    try:
        preparing: deque[tuple[list[tuple], Future]] = deque()
        finishing: deque[tuple[Future, list[list[IncidentEvent]]]] = deque()
        for chunk in chunks:
            # Plain tuples: a named tuple would pickle its class name with every record.
            packed = [tuple(record) for record in chunk]
            preparing.append((packed, pool.submit(_prepare, packed)))
            if len(preparing) > half:
                finishing.append(lanes.finish_next(pool, preparing))
            if len(finishing) > half:
                yield _noted(task, *finishing.popleft())
        while preparing:
            finishing.append(lanes.finish_next(pool, preparing))
        while finishing:
            yield _noted(task, *finishing.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Lanes:
    """What the chunks prepared so far told, per router: the owners of their threads, and the incidents."""

    def __init__(self, task: Task[Any]) -> None:
        self.threads = [ThreadsSoFar() for _ in range(task.lanes)]
        self.incidents = [IncidentsSoFar(detector) for detector in task.detectors()]

    def finish_next(self, pool: ProcessPoolExecutor,
                    preparing: deque[tuple[list[tuple], Future]]) -> tuple[Future, list[list[IncidentEvent]]]:
        """Submit the oldest prepared chunk's second half, with what the chunks before it told; and its events."""
        packed, future = preparing.popleft()
        prepared: list[Prepared] = future.result()
        known = [lane.known_to(chunk) for lane, chunk in zip(self.threads, prepared)]
        detected = [lane.detect(chunk) for lane, chunk in zip(self.incidents, prepared)]
        submitted = pool.submit(_finish, packed, prepared, known, [found.incidents for found in detected])
        return submitted, [found.events for found in detected]


def _noted(task: Task[Counts], future: Future, events: list[list[IncidentEvent]]) -> Part[Counts]:
    return task.note(future.result(), events)


_task: Task[Any] | None = None  # what a worker process routes its chunks with


def _start(task: Task[Any]) -> None:
    """Runs once in each worker process: one core's worth of threads, and the routers loaded before any chunk."""
    global _task
    threadpool_limits(1)  # N processes on N cores: a BLAS thread pool in each would only fight over them
    _task = task
    _task([])  # loads the routers now, so that a broken model fails here rather than on the first chunk
    freeze_loaded()


def _prepare(packed: list[tuple]) -> list[Prepared]:
    assert _task is not None, "worker started without its task"
    return _task.prepare([Record._make(fields) for fields in packed])


def _finish(packed: list[tuple], prepared: list[Prepared], known: list[list[Entry]],
            incidents: list[list[Incident | None]]) -> Part[Any]:
    assert _task is not None, "worker started without its task"
    return _task.finish([Record._make(fields) for fields in packed], prepared, known, incidents)
