"""Replay records through the worker's own `route_batch`, in batches, at event time."""

from collections.abc import Iterable, Iterator
from itertools import islice

from router.pipeline import Outcome, Record, Router, route_batch

BATCH_SIZE = 1000


def batches(records: Iterable[Record], size: int = BATCH_SIZE) -> Iterator[list[Record]]:
    """Consecutive batches of at most `size` records; only one batch is held at a time."""
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def replay(records: Iterable[Record], router: Router, batch_size: int = BATCH_SIZE) -> Iterator[Outcome]:
    """One outcome per mention or undecodable record, in archive order."""
    for outcomes in replay_batches(records, router, batch_size):
        yield from outcomes


def replay_batches(records: Iterable[Record], router: Router,
                   batch_size: int = BATCH_SIZE) -> Iterator[list[Outcome]]:
    """The outcomes of `replay`, a batch at a time.

    `now=None` makes each decision's `routed_at` the mention's own `created_at`: the past replays as
    it happened, and the output does not depend on when the replay runs.
    """
    for batch in batches(records, batch_size):
        yield route_batch(batch, router, None)


def replay_pairs(records: Iterable[Record], before: Router, after: Router,
                 batch_size: int = BATCH_SIZE) -> Iterator[tuple[Outcome, Outcome]]:
    """The same records through two routers, outcome by outcome, reading the archive once."""
    for batch in batches(records, batch_size):
        # Decoding does not depend on the router, so both lists line up one to one.
        yield from zip(route_batch(batch, before, None), route_batch(batch, after, None), strict=True)
