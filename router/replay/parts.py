"""Replay in parts: archives cut into chunks of whole batches, routed here or by worker processes, merged in order.

A chunk is routed by the same code whichever process runs it, and parts come back in input order, so
`--jobs N` writes the same lines in the same order, and counts the same summary, as `--jobs 1`.
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

from router.classify.classifier import load_model
from router.pipeline import Record, Router
from router.replay.diff import Diff
from router.replay.engine import batches, replay_batches, replay_pairs
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
        return Router(load_model(self.model), load_config(self.config))


class Summarise:
    """A chunk's summary and, when writing, its decisions and dead letters."""

    streams = ("decisions", "dead-letters")

    def __init__(self, spec: RouterSpec, batch_size: int, write: bool, router: Router | None = None) -> None:
        self.spec, self.batch_size, self.write = spec, batch_size, write
        self._router = router

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_router": None}  # a worker loads its own; a loaded model does not travel

    def __call__(self, records: list[Record]) -> Part[Summary]:
        if self._router is None:
            self._router = self.spec.load()
        part = Part(Summary(), {name: [] for name in self.streams})
        lines = part.lines
        for outcomes in replay_batches(records, self._router, self.batch_size):
            part.outcomes += len(outcomes)
            part.counts.add_all(outcomes)
            if self.write:
                for stream, text in map(outcome_line, outcomes):
                    lines[stream].append(text)
        return part


class Compare:
    """A chunk through two routers: its diff and, when writing, its changes."""

    streams = ("changes",)

    def __init__(self, before: RouterSpec, after: RouterSpec, batch_size: int, write: bool,
                 routers: tuple[Router, Router] | None = None) -> None:
        self.before, self.after, self.batch_size, self.write = before, after, batch_size, write
        self._routers = routers

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_routers": None}

    def __call__(self, records: list[Record]) -> Part[Diff]:
        if self._routers is None:
            before = self.before.load()
            # The same files load once: a diff of configs shares the classifier, as in this process.
            classifier = before.classifier if self.after.model == self.before.model else load_model(
                self.after.model)
            config = before.config if self.after.config == self.before.config else load_config(self.after.config)
            self._routers = before, Router(classifier, config)
        part = Part(Diff(), {name: [] for name in self.streams})
        for old, new in replay_pairs(records, *self._routers, self.batch_size):
            change = part.counts.add(old, new)
            part.outcomes += 1
            if self.write and change:
                part.lines["changes"].append(line(change))
        return part


class Task(Protocol[Counts]):
    """Routes a chunk of records into a part: Summarise or Compare."""

    batch_size: int

    def __call__(self, records: list[Record]) -> Part[Counts]: ...


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
        yield from map(task, chunks)
        return
    # spawn, not fork: a forked child would inherit whatever threads and locks the parent holds; each worker
    # starts clean, with this process's CPU affinity, and loads its routers once.
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                               initargs=(task,))
    try:
        pending: deque[Future] = deque()
        for chunk in chunks:
            # Plain tuples: a named tuple would pickle its class name with every record.
            pending.append(pool.submit(_route, [tuple(record) for record in chunk]))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_task: Task[Any] | None = None  # what a worker process routes its chunks with


def _start(task: Task[Any]) -> None:
    """Runs once in each worker process: one core's worth of threads, and the routers loaded before any chunk."""
    global _task
    threadpool_limits(1)  # N processes on N cores: a BLAS thread pool in each would only fight over them
    _task = task
    _task([])  # loads the routers now, so that a broken model fails here rather than on the first chunk
    freeze_loaded()


def _route(packed: list[tuple]) -> Part[Any]:
    assert _task is not None, "worker started without its task"
    return _task([Record._make(fields) for fields in packed])
