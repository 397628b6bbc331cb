"""The worker's loop: read batches, route them in processes of their own, deliver each in turn, commit its offsets."""

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.structs import ConsumerRecord
from mode import Service

from router import metrics
from router.kafka_io import client_options, read_to_end
from router.pipeline import Record
from router.settings import Settings
from router.worker.delivery import AtLeastOnce, DeliveryFailed, ExactlyOnce, Producer, describe
from router.worker.processes import Routing
from router.worker.routing import RoutedBatch, Tally

log = structlog.get_logger("router.worker")

# The producer keeps this much room around one record for the request's framing.
REQUEST_OVERHEAD_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A batch read from Kafka, being routed; delivered strictly after the batches read before it."""

    records: int
    offsets: dict[TopicPartition, int]  # the next offset to read, per partition: what a delivery commits
    routed: "asyncio.Future[RoutedBatch]"
    read_at: float  # time.perf_counter() when it was read: the log says how long it waited, and where


class Health:
    """What `/ready` and `/live` make of a service: ready while its task runs with partitions, live while it moves."""

    settings: Settings
    heartbeat: float  # time.monotonic() when its task last moved on
    _task: asyncio.Task | None

    @property
    def assigned(self) -> list[int]:
        raise NotImplementedError

    @property
    def ready(self) -> bool:
        return self._task is not None and not self._task.done() and bool(self.assigned)

    @property
    def live(self) -> bool:
        stalled = time.monotonic() - self.heartbeat > self.settings.delivery_timeout_seconds + 30
        return self._task is not None and not self._task.done() and not stalled


class RoutingLoop(Health, Service):
    """Consumes the input topic with manual commits; a batch's offsets are committed only once delivered.

    Batches are read and routed ahead, while the batch before them waits for its acknowledgements, but
    they are delivered one after the other in the order they were read: a thread's mentions keep their
    order, and a batch's offsets are never committed before the outputs of every batch before it.
    """

    def __init__(self, settings: Settings, routing: Routing, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.routing = settings, routing
        self.heartbeat = time.monotonic()
        # One batch delivering, one routing in each process: enough to keep every core busy.
        self._in_flight = _InFlight(max(settings.routing_processes, 1) + 1)
        self._task: asyncio.Task | None = None
        self._stopping = False

    @property
    def assigned(self) -> list[int]:
        """The input partitions this worker reads (each with the claims partition of its number)."""
        if self._task is None:
            return []
        return sorted(tp.partition for tp in self.consumer.assignment() if tp.topic == self.settings.input_topic)

    async def on_start(self) -> None:
        # aiokafka's clients bind to the running event loop, so they are made here and not in __init__.
        self.consumer, self.producer = _consumer(self.settings), Producer(lambda: _producer(self.settings))
        self.delivery = self._delivery()
        await self.producer.get()
        await self.consumer.start()
        self._assigned = _Assigned(self.consumer, self._in_flight)
        settings = self.settings
        topics = [settings.input_topic, settings.claims_topic, settings.corrections_topic, settings.labelled_topic]
        self.consumer.subscribe(topics, listener=self._assigned)

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
        # The reader reads as soon as the fetcher has records and a place is free, so that records never
        # wait in the fetcher behind a delivery; the deliverer takes the batches in the order they were read.
        batches: asyncio.Queue[_Fetched | None] = asyncio.Queue()
        steps = [asyncio.ensure_future(self._read(batches)), asyncio.ensure_future(self._deliver_all(batches))]
        try:
            await _until_done_or_failed(steps, watching=asyncio.ensure_future(self.routing.watch()))
        except Exception as error:  # noqa: BLE001 - whatever stops the loop, nothing more is committed
            reason = str(error) if isinstance(error, DeliveryFailed) else describe(error)
            metrics.WORKER_STOPS.labels(reason=type(error).__name__).inc()
            log.error("worker.stopped_without_commit", reason=reason)
            await self.crash(error)  # stopping shuts the routing processes down with what they still hold

    async def _read(self, batches: "asyncio.Queue[_Fetched | None]") -> None:
        """Read batches and start routing each, until stopped; none while a rebalance waits for the ones read."""
        wait_ms = int(self.settings.batch_wait_seconds * 1000)
        while not self._stopping:
            await self._in_flight.take_place()
            if self._assigned.new:
                await self._restore(self._assigned.take_new())
            fetched = await self.consumer.getmany(timeout_ms=wait_ms, max_records=self.settings.batch_size)
            if not fetched:
                self._in_flight.give_back_place()
                self.heartbeat = time.monotonic()  # idle, not stuck
                continue
            self._in_flight.read()
            records = [_record(message) for messages in fetched.values() for message in messages]
            batches.put_nowait(_Fetched(
                records=len(records),
                offsets={partition: batch[-1].offset + 1 for partition, batch in fetched.items()},
                routed=asyncio.ensure_future(self.routing.route(records)),
                read_at=time.perf_counter(),
            ))
        batches.put_nowait(None)

    async def _deliver_all(self, batches: "asyncio.Queue[_Fetched | None]") -> None:
        """Deliver batches in the order they were read; those routed by then go together, under one commit.

        A delivery costs round trips to the broker however many records it carries: when batches queue up
        behind one, the next takes every one of them that is routed.
        """
        waiting: list[_Fetched] = []
        while True:
            if not waiting:
                batch = await batches.get()
                if batch is None:
                    break
                waiting.append(batch)
            await asyncio.wait([waiting[0].routed])
            while not batches.empty():
                batch = batches.get_nowait()
                if batch is None:
                    batches.put_nowait(None)  # the end comes after the batches already taken
                    break
                waiting.append(batch)
            ready = next((n for n, batch in enumerate(waiting) if not batch.routed.done()), len(waiting))
            group, waiting = waiting[:ready], waiting[ready:]
            await self._deliver(group)
            if len(group) == self._in_flight.undelivered:  # the last batches read: their commit lands first
                await self.delivery.flush()
            self.heartbeat = time.monotonic()
            self._in_flight.delivered(len(group))
        await self.delivery.flush()

    async def _deliver(self, group: list[_Fetched]) -> None:
        routed = [batch.routed.result() for batch in group]  # a batch whose routing failed raises here
        messages = [message for batch in routed for message in batch.messages]
        offsets = {partition: offset for batch in group for partition, offset in batch.offsets.items()}
        started = time.perf_counter()
        await self.delivery.deliver(messages, offsets)
        for batch in routed:
            _observe(batch.tally)
        self._observe_lag(offsets)
        log.info("batch.delivered", batches=len(group), records=sum(batch.records for batch in group),
                 outcomes=sum(batch.tally.outcomes for batch in routed), messages=len(messages),
                 offsets={f"{tp.topic}/{tp.partition}": offset for tp, offset in offsets.items()},
                 since_read_ms=round((started - group[0].read_at) * 1000, 1),
                 deliver_ms=round((time.perf_counter() - started) * 1000, 1))

    async def _restore(self, assigned: list[TopicPartition]) -> None:
        """Rebuild the conversations of newly assigned partitions from their changelog, then read them."""
        settings, started, entries = self.settings, time.perf_counter(), 0
        changelog = [TopicPartition(settings.threads_topic, tp.partition) for tp in assigned
                     if tp.topic == settings.input_topic]
        isolation = "read_committed" if settings.processing_guarantee == "exactly_once" else "read_uncommitted"
        async for chunk in read_to_end(settings, changelog, isolation_level=isolation):
            await self.routing.restore(chunk)
            entries += len(chunk)
        self.consumer.resume(*assigned)
        log.info("conversations.restored", partitions=sorted(tp.partition for tp in changelog), entries=entries,
                 seconds=round(time.perf_counter() - started, 2))

    def _delivery(self) -> AtLeastOnce | ExactlyOnce:
        timeout = self.settings.delivery_timeout_seconds
        if self.settings.processing_guarantee == "exactly_once":
            return ExactlyOnce(self.producer, self.settings.app_id, timeout=timeout)
        return AtLeastOnce(self.producer, self.consumer, timeout=timeout)

    def _observe_lag(self, offsets: dict[TopicPartition, int]) -> None:
        """Records behind the end of each partition, from the next offset to read."""
        for partition, offset in offsets.items():
            if partition.topic != self.settings.input_topic:
                continue
            highwater = self.consumer.highwater(partition)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(partition=str(partition.partition)).set(max(highwater - offset, 0))


class _InFlight:
    """Batches read and not yet delivered: a few at most, and none read while a rebalance waits for them all."""

    def __init__(self, places: int):
        self._places = asyncio.Semaphore(places)
        self.undelivered = 0
        self._none = asyncio.Event()
        self._none.set()
        self._reading = asyncio.Event()
        self._reading.set()

    async def take_place(self) -> None:
        """Wait for room for one more batch, to read it in."""
        await self._reading.wait()
        await self._places.acquire()

    def give_back_place(self) -> None:
        """Nothing was read: the place is free again."""
        self._places.release()

    def read(self) -> None:
        """A batch was read into the place taken."""
        self.undelivered += 1
        self._none.clear()

    def delivered(self, batches: int) -> None:
        for _ in range(batches):
            self._places.release()
        self.undelivered -= batches
        if not self.undelivered:
            self._none.set()

    async def drain(self) -> None:
        """Stop reading until every batch read has been delivered."""
        self._reading.clear()
        try:
            await self._none.wait()
        finally:
            self._reading.set()


class _Assigned(ConsumerRebalanceListener):
    """Partitions come and go: a revoked one waits for the batches read from it, a new one for its conversations.

    Waiting for the batches read means no batch commits for a partition this worker lost. A new partition is
    paused until the read loop has rebuilt its conversations from the changelog: a reply read before would
    miss its thread's owner. (aiokafka assigns before it calls the listener, and only logs what the listener
    raises, so the restore runs in the read loop, where a failure stops the worker.)
    """

    def __init__(self, consumer: AIOKafkaConsumer, in_flight: _InFlight):
        self._consumer, self._in_flight = consumer, in_flight
        self.new: set[TopicPartition] = set()
        self._held: set[TopicPartition] = set()  # before the rebalance: those kept need no restore

    def take_new(self) -> list[TopicPartition]:
        new, self.new = sorted(self.new), set()
        return new

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._in_flight.drain()
        self._held = set(revoked) - self.new  # one still waiting for its restore was never really held
        log.info("partitions.revoked", partitions=_names(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        # aiokafka revokes every partition before a rebalance and assigns them anew: only those this worker
        # did not hold have conversations it may not know.
        self.new = set(assigned) - self._held
        self._consumer.pause(*self.new)
        log.info("partitions.assigned", partitions=_names(assigned))


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{tp.topic}/{tp.partition}" for tp in partitions)


async def _until_done_or_failed(steps: Sequence[asyncio.Future[None]], watching: asyncio.Future[None]) -> None:
    """Wait for the steps; the first failure, of a step or of what is watched, cancels the rest and raises."""
    pending = {*steps, watching}
    try:
        while not all(step.done() for step in steps):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    finally:
        for task in [*steps, watching]:
            task.cancel()


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    exactly_once = settings.processing_guarantee == "exactly_once"
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=settings.app_id,
        # Partition n of the input, of the claims and of the labelled topic goes to the same worker: a claim, and a
        # mention back from the careful lane, meet their thread's state.
        partition_assignment_strategy=(RangePartitionAssignor,),
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
                  message.timestamp / 1000, tuple(message.headers))


def _observe(tally: Tally) -> None:
    """A delivered batch's metrics: mentions routed and dead-lettered, and each routed record's age."""
    now = time.time()
    for produced_at in tally.produced_at:
        metrics.ROUTING_LATENCY.observe(max(now - produced_at, 0.0))
    for (label, owner), count in tally.routed.items():
        metrics.MENTIONS_ROUTED.labels(label=label, owner=owner).inc(count)
    for reason, count in tally.dead.items():
        metrics.MENTIONS_DEAD_LETTERED.labels(reason=reason).inc(count)
    if tally.careful:
        metrics.MENTIONS_CAREFUL.inc(tally.careful)
