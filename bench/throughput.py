"""Throughput of a running process: records per second from the first publish to the last output collected."""

import time

from router.kafka_io import Collector, publish
from router.settings import Settings


async def records_per_second(settings: Settings, counting: set[str], values: list[bytes],
                             warm_up: list[bytes]) -> float:
    """Warms the process up, untimed, then times `values` from the first publish to their last output.

    Both the worker and the passthrough go through here: same publisher, same collector, same pacing (all
    records published as fast as the producer goes, collected concurrently by the collector's fetcher).
    The warm-up also proves the process consumes, whether or not it has a /ready endpoint.
    """
    await deliver(settings, counting, warm_up)
    return len(values) / await deliver(settings, counting, values)


async def deliver(settings: Settings, counting: set[str], values: list[bytes]) -> float:
    """Seconds from the first publish until one output per record arrived on the `counting` topics."""
    async with Collector(settings, counting) as collector:
        started = time.perf_counter()
        await publish(settings, settings.input_topic, ((None, value) for value in values))
        received = await collector.collect(len(values), counting, timeout=max(600, len(values) / 100))
        elapsed = time.perf_counter() - started
    if len(received) < len(values):
        raise SystemExit(f"{settings.app_id}: only {len(received):,} of {len(values):,} outputs arrived")
    return elapsed
