"""The worker's loop: read a batch, route it with the pure pipeline, deliver its outputs, commit its offsets."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from mode import Service

from router import metrics
from router.classify.model import Classifier
from router.kafka_io import client_options
from router.pipeline import DeadLettered, Message, Outcome, Record, Router, messages_for, route_batch
from router.rules import ConfigHolder
from router.settings import Settings
from router.worker.delivery import AtLeastOnce, DeliveryFailed, ExactlyOnce, Producer, describe
from router.worker.fault_injection import RaisingClassifier

log = structlog.get_logger("router.worker")

# The producer keeps this much room around one record for the request's framing.
REQUEST_OVERHEAD_BYTES = 16 * 1024


class RoutingLoop(Service):
    """Consumes the input topic with manual commits; a batch's offsets are committed only once delivered."""

    def __init__(self, settings: Settings, classifier: Classifier, holder: ConfigHolder, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.holder = settings, holder
        self.classifier = RaisingClassifier(classifier, settings.fail_routing_on) if settings.fail_routing_on \
            else classifier
        self.heartbeat = time.monotonic()
        self._in_flight = asyncio.Lock()  # a revoked partition waits for the batch that holds it
        self._task: asyncio.Task | None = None
        self._stopping = False

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
        self.consumer.subscribe([self.settings.input_topic], listener=_WaitForBatch(self._in_flight))

    async def on_started(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def on_stop(self) -> None:
        """Finish the batch in flight, within the shutdown timeout; a batch cut short is not committed."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.settings.shutdown_timeout_seconds)
            except asyncio.TimeoutError:
                self._task.cancel()
                log.warning("worker.batch_abandoned", reason="shutdown timeout; its offsets stay uncommitted")
        await self.consumer.stop()
        await self.producer.stop()
        log.info("worker.stopped")

    async def _run(self) -> None:
        try:
            while not self._stopping:
                await self._step()
        except Exception as error:  # noqa: BLE001 - whatever stops the loop, nothing more is committed
            reason = str(error) if isinstance(error, DeliveryFailed) else describe(error)
            metrics.WORKER_STOPS.labels(reason=type(error).__name__).inc()
            log.error("worker.stopped_without_commit", reason=reason)
            await self.crash(error)

    async def _step(self) -> None:
        self.heartbeat = time.monotonic()
        fetched = await self.consumer.getmany(timeout_ms=int(self.settings.batch_wait_seconds * 1000),
                                              max_records=self.settings.batch_size)
        if not fetched:
            return
        async with self._in_flight:
            records = [_record(message) for messages in fetched.values() for message in messages]
            router = Router(self.classifier, self.holder.current)
            outcomes = route_batch(records, router, datetime.now(timezone.utc))
            messages = [message for outcome in outcomes for message in fitted_messages(outcome, self.settings)]
            offsets = {partition: batch[-1].offset + 1 for partition, batch in fetched.items()}
            started = time.perf_counter()
            await self.delivery.deliver(messages, offsets)
        _observe(outcomes)
        self._observe_lag(fetched)
        log.info("batch.delivered", records=len(records), outcomes=len(outcomes), messages=len(messages),
                 offsets={f"{tp.topic}/{tp.partition}": offset for tp, offset in offsets.items()},
                 deliver_ms=round((time.perf_counter() - started) * 1000, 1))

    def _delivery(self) -> AtLeastOnce | ExactlyOnce:
        timeout = self.settings.delivery_timeout_seconds
        if self.settings.processing_guarantee == "exactly_once":
            return ExactlyOnce(self.producer, self.settings.app_id, timeout=timeout)
        return AtLeastOnce(self.producer, self.consumer, timeout=timeout)

    def _observe_lag(self, fetched: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        for partition, messages in fetched.items():
            highwater = self.consumer.highwater(partition)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(partition=str(partition.partition)).set(
                    max(highwater - messages[-1].offset - 1, 0))


class _WaitForBatch(ConsumerRebalanceListener):
    """Partitions are handed over only between batches, so a batch never commits for a partition it lost."""

    def __init__(self, in_flight: asyncio.Lock):
        self._in_flight = in_flight

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self._in_flight:
            log.info("partitions.revoked", partitions=sorted(p.partition for p in revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        log.info("partitions.assigned", partitions=sorted(p.partition for p in assigned))


def fitted_messages(outcome: Outcome, settings: Settings) -> list[Message]:
    """The outcome's messages; one that would not fit in a Kafka record turns the outcome into a dead letter."""
    topics = {"decisions_topic": settings.decisions_topic, "dead_letter_topic": settings.dead_letter_topic}
    messages = messages_for(outcome, **topics)
    largest = max(len(message.value) + len(message.key or b"") for message in messages)
    if largest <= settings.max_message_bytes:
        return messages
    reason = f"output too large: {largest} bytes, limit {settings.max_message_bytes}"
    return messages_for(DeadLettered(outcome.record, reason), **topics)


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


def _observe(outcomes: list[Outcome]) -> None:
    """Metrics per batch, and the canonical log line per mention (routed at debug, dead letters at warning)."""
    routed: Counter[tuple[str, str]] = Counter()
    dead: Counter[str] = Counter()
    now = time.time()
    # Checked once a batch: at INFO the per-mention line would otherwise be built and dropped for every mention.
    debug = log.is_enabled_for(logging.DEBUG)
    for outcome in outcomes:
        record = outcome.record
        if isinstance(outcome, DeadLettered):
            dead[outcome.reason.split(":")[0]] += 1
            log.warning("mention.dead_lettered", reason=outcome.reason, topic=record.topic,
                        partition=record.partition, offset=record.offset)
            continue
        routed[outcome.classification.label, outcome.decision.owner] += 1
        metrics.ROUTING_LATENCY.observe(max(now - record.timestamp, 0.0))
        if debug:
            log.debug("mention.routed", id=outcome.mention.id, source=outcome.mention.source,
                      label=outcome.classification.label, confidence=outcome.routing["confidence"],
                      owner=outcome.decision.owner, queues=list(outcome.decision.queues),
                      route="/".join(outcome.decision.route), partition=record.partition, offset=record.offset)
    for (label, owner), count in routed.items():
        metrics.MENTIONS_ROUTED.labels(label=label, owner=owner).inc(count)
    for reason, count in dead.items():
        metrics.MENTIONS_DEAD_LETTERED.labels(reason=reason).inc(count)
