"""The worker's loop: read batches, route them in processes of their own, deliver each in turn, commit its offsets."""

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from mode import Service

from router import metrics
from router.kafka_io import client_options
from router.pipeline import Record
from router.settings import Settings
from router.worker.delivery import AtLeastOnce, DeliveryFailed, ExactlyOnce, Producer, describe
from router.worker.routing import InlineRouting, ProcessRouting, RoutedBatch, Tally

log = structlog.get_logger("router.worker")

# The producer keeps this much room around one record for the request's framing.
REQUEST_OVERHEAD_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A batch read from Kafka, being routed; delivered strictly after the batches read before it."""

    records: int
    offsets: dict[TopicPartition, int]  # the next offset to read, per partition: what a delivery commits
    routed: "asyncio.Future[RoutedBatch]"
    lag: dict[TopicPartition, int]  # the last offset read, per partition


class RoutingLoop(Service):
    """Consumes the input topic with manual commits; a batch's offsets are committed only once delivered.

    Batches are routed ahead, while the batch before them waits for its acknowledgements, but they are
    delivered one after the other in the order they were read: a thread's mentions keep their order,
    and a batch's offsets are never committed before the outputs of every batch before it.
    """

    def __init__(self, settings: Settings, routing: InlineRouting | ProcessRouting, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.routing = settings, routing
        self.heartbeat = time.monotonic()
        self._handover = _Handover()
        self._task: asyncio.Task | None = None
        self._stopping = False
        # One batch delivering, one routing in each process: enough to keep every core busy.
        self._ahead = max(settings.routing_processes, 1) + 1

    @property
    def assigned(self) -> list[int]:
        return sorted(partition.partition for partition in self.consumer.assignment()) if self._task else []

    @property
    def ready(self) -> bool:
        return self._task is not None and not self._task.done() and bool(self.assigned)

    @property
    def live(self) -> bool:
        stalled = time.monotonic() - self.heartbeat > self.settings.delivery_timeout_seconds + 30
        return self._task is not None and not self._task.done() and not stalled

    async def on_start(self) -> None:
        # aiokafka's clients bind to the running event loop, so they are made here and not in __init__.
        self.consumer, self.producer = _consumer(self.settings), Producer(lambda: _producer(self.settings))
        self.delivery = self._delivery()
        await self.producer.get()
        await self.consumer.start()
        self.consumer.subscribe([self.settings.input_topic], listener=_WaitForBatches(self._handover))

    async def on_started(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def on_stop(self) -> None:
        """Deliver the batches already read, within the shutdown timeout; a batch cut short is not committed."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.settings.shutdown_timeout_seconds)
            except asyncio.TimeoutError:
                self._task.cancel()
                log.warning("worker.batch_abandoned", reason="shutdown timeout; its offsets stay uncommitted")
        await self.consumer.stop()
        await self.producer.stop()
        self.routing.stop()
        log.info("worker.stopped")

    async def _run(self) -> None:
        pending: deque[_Fetched] = deque()
        try:
            while pending or not self._stopping:
                self.heartbeat = time.monotonic()
                await self._read_ahead(pending)
                if pending:
                    await self._deliver(pending.popleft())
                if not pending:
                    self._handover.idle()
        except Exception as error:  # noqa: BLE001 - whatever stops the loop, nothing more is committed
            reason = str(error) if isinstance(error, DeliveryFailed) else describe(error)
            metrics.WORKER_STOPS.labels(reason=type(error).__name__).inc()
            log.error("worker.stopped_without_commit", reason=reason)
            for batch in pending:
                batch.routed.cancel()
            await self.crash(error)

    async def _read_ahead(self, pending: deque[_Fetched]) -> None:
        """Read and start routing batches until enough are ahead; wait for records only when none are."""
        while len(pending) < self._ahead and not self._stopping and not self._handover.requested:
            wait = 0 if pending else self.settings.batch_wait_seconds
            fetched = await self.consumer.getmany(timeout_ms=int(wait * 1000), max_records=self.settings.batch_size)
            if not fetched:
                return
            self._handover.busy()
            records = [_record(message) for messages in fetched.values() for message in messages]
            pending.append(_Fetched(
                records=len(records),
                offsets={partition: batch[-1].offset + 1 for partition, batch in fetched.items()},
                routed=asyncio.ensure_future(self.routing.route(records)),
                lag={partition: batch[-1].offset for partition, batch in fetched.items()},
            ))

    async def _deliver(self, batch: _Fetched) -> None:
        routed = await batch.routed
        started = time.perf_counter()
        await self.delivery.deliver(routed.messages, batch.offsets)
        _observe(routed.tally)
        self._observe_lag(batch.lag)
        log.info("batch.delivered", records=batch.records, outcomes=routed.tally.outcomes,
                 messages=len(routed.messages),
                 offsets={f"{tp.topic}/{tp.partition}": offset for tp, offset in batch.offsets.items()},
                 deliver_ms=round((time.perf_counter() - started) * 1000, 1))

    def _delivery(self) -> AtLeastOnce | ExactlyOnce:
        timeout = self.settings.delivery_timeout_seconds
        if self.settings.processing_guarantee == "exactly_once":
            return ExactlyOnce(self.producer, self.settings.app_id, timeout=timeout)
        return AtLeastOnce(self.producer, self.consumer, timeout=timeout)

    def _observe_lag(self, last_read: dict[TopicPartition, int]) -> None:
        for partition, offset in last_read.items():
            highwater = self.consumer.highwater(partition)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(partition=str(partition.partition)).set(max(highwater - offset - 1, 0))


class _Handover:
    """Partitions change hands only when no batch read from them is waiting to be delivered."""

    def __init__(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()
        self.requested = False  # a rebalance waits: read nothing more until the batches read are delivered

    def busy(self) -> None:
        self._idle.clear()

    def idle(self) -> None:
        self._idle.set()

    async def wait_until_idle(self) -> None:
        self.requested = True
        try:
            await self._idle.wait()
        finally:
            self.requested = False


class _WaitForBatches(ConsumerRebalanceListener):
    """A revoked partition waits for the batches read from it, so that no batch commits for a partition it lost."""

    def __init__(self, handover: _Handover):
        self._handover = handover

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._handover.wait_until_idle()
        log.info("partitions.revoked", partitions=sorted(p.partition for p in revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        log.info("partitions.assigned", partitions=sorted(p.partition for p in assigned))


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    exactly_once = settings.processing_guarantee == "exactly_once"
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=settings.app_id,
        client_id=f"{settings.app_id}-{settings.instance_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed" if exactly_once else "read_uncommitted",
        max_partition_fetch_bytes=max(settings.max_message_bytes, 1024 * 1024),
    )


def _producer(settings: Settings) -> AIOKafkaProducer:
    exactly_once = settings.processing_guarantee == "exactly_once"
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=f"{settings.app_id}-{settings.instance_id}",
        acks="all",
        enable_idempotence=True,
        transactional_id=f"{settings.app_id}-{settings.instance_id}" if exactly_once else None,
        max_request_size=settings.max_message_bytes + REQUEST_OVERHEAD_BYTES,
        max_batch_size=256 * 1024,
        request_timeout_ms=int(min(settings.delivery_timeout_seconds, 30) * 1000),
    )


def _record(message: ConsumerRecord) -> Record:
    return Record(message.value, message.key, message.topic, message.partition, message.offset,
                  message.timestamp / 1000)


def _observe(tally: Tally) -> None:
    """A delivered batch's metrics: mentions routed and dead-lettered, and each routed record's age."""
    now = time.time()
    for produced_at in tally.produced_at:
        metrics.ROUTING_LATENCY.observe(max(now - produced_at, 0.0))
    for (label, owner), count in tally.routed.items():
        metrics.MENTIONS_ROUTED.labels(label=label, owner=owner).inc(count)
    for reason, count in tally.dead.items():
        metrics.MENTIONS_DEAD_LETTERED.labels(reason=reason).inc(count)
