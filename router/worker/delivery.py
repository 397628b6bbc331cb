"""Producing a batch's outputs and committing its input offsets: never the offsets without the outputs."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, ProducerFenced
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from router import metrics
from router.errors import RouterError

log = structlog.get_logger("router.worker")

Offsets = Mapping[TopicPartition, int]
Headers = tuple[tuple[str, bytes], ...]
# topic, key, value: a pipeline Message or a plain tuple; a record handed on whole (to or from the careful lane)
# adds its headers and its timestamp in milliseconds, which says when the mention was first produced.
Outgoing = tuple[str, bytes | None, bytes] | tuple[str, bytes | None, bytes, Headers, int | None]
Attempt = Callable[[], Awaitable[None]]

FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.5, 10.0
_NO_HEADERS: list[tuple[str, bytes]] = []  # never changed: the record builder only reads it
CLOSE_SECONDS = 5.0


class DeliveryFailed(RouterError):
    """A batch that could not be delivered in time: its offsets were not committed."""


class Producer:
    """The producer in use, replaced by a new one after a failed batch.

    An idempotent producer whose batch failed can stay stuck on the broker's sequence numbers
    (OutOfOrderSequenceNumber after a broker restart); a new one starts a new sequence, and a new
    transactional one fences and aborts what the old one left open.
    """

    def __init__(self, make: Callable[[], AIOKafkaProducer]):
        self._make = make
        self._producer: AIOKafkaProducer | None = None

    async def get(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._make()
            await producer.start()  # a broker that is down raises here, and the batch is tried again
            self._producer = producer
        return self._producer

    async def reset(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:  # it flushes what it holds first: bounded, since the broker may be the trouble
                await asyncio.wait_for(producer.stop(), CLOSE_SECONDS)
            except (asyncio.TimeoutError, KafkaError) as error:
                log.warning("producer.close_failed", reason=describe(error))

    async def stop(self) -> None:
        await self.reset()


class AtLeastOnce:
    """Sends a batch's messages in order, awaits every acknowledgement, then commits its offsets.

    A failed send makes the whole batch go again, so that each thread's order holds: a queue may
    see a copy twice, never out of order, and never misses one. The commit is a round trip of its
    own: it runs while the next batch is sent, and commits still go one after the other.
    """

    def __init__(self, producer: Producer, consumer: AIOKafkaConsumer, *, timeout: float):
        self._producer, self._consumer, self._timeout = producer, consumer, timeout
        self._committing: asyncio.Future[None] | None = None

    async def deliver(self, messages: Sequence[Outgoing], offsets: Offsets) -> None:
        await _with_retries(lambda: self._send(messages), self._timeout, "send")
        await self.flush()
        self._committing = asyncio.ensure_future(_with_retries(lambda: self._commit(offsets), self._timeout, "commit"))

    async def flush(self) -> None:
        """Wait for the last commit; one that failed for good raises here."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def _send(self, messages: Sequence[Outgoing]) -> None:
        try:
            await send_all(await self._producer.get(), messages)
        except KafkaError:
            await self._producer.reset()
            raise

    async def _commit(self, offsets: Offsets) -> None:
        try:
            await self._consumer.commit(dict(offsets))
        except CommitFailedError as error:
            # The partitions moved to another worker, which reads from the last commit:
            # the outputs are already delivered, so this costs duplicates, never a loss.
            log.warning("batch.commit_skipped", reason=str(error))


class ExactlyOnce:
    """A batch's outputs and its input offsets commit in one Kafka transaction, or none of it does."""

    def __init__(self, producer: Producer, group_id: str, *, timeout: float):
        self._producer, self._group_id, self._timeout = producer, group_id, timeout

    async def deliver(self, messages: Sequence[Outgoing], offsets: Offsets) -> None:
        await _with_retries(lambda: self._transaction(messages, offsets), self._timeout, "transaction")

    async def flush(self) -> None:
        """Nothing to wait for: a transaction commits inside `deliver`."""

    async def _transaction(self, messages: Sequence[Outgoing], offsets: Offsets) -> None:
        producer = await self._producer.get()
        await producer.begin_transaction()
        try:
            await send_all(producer, messages)
            await producer.send_offsets_to_transaction(dict(offsets), self._group_id)
            await producer.commit_transaction()
        except ProducerFenced:
            raise
        except BaseException:
            await _abort(producer)
            await self._producer.reset()
            raise


async def _abort(producer: AIOKafkaProducer) -> None:
    try:
        await producer.abort_transaction()
    except KafkaError as error:
        log.warning("transaction.abort_failed", reason=describe(error))


async def send_all(producer: AIOKafkaProducer, messages: Sequence[Outgoing]) -> None:
    """Append every message in order to its partition's batches, then await every batch; the first failure raises.

    Filling batches without a future per record, and awaiting acknowledgements once per batch, is what
    makes delivery fast. The producer is idempotent, so its own retries cannot reorder a partition.
    """
    partitions = await _partitions(producer, {message[0] for message in messages})
    hashes: dict[bytes, int] = {}  # a mention's queue copies and decision share one key
    open_batches: dict[TopicPartition, BatchBuilder] = {}
    pending = []
    for message in messages:
        topic, key, value = message[0], message[1], message[2]
        # The record builder takes headers as a list only.
        headers, timestamp = (list(message[3]), message[4]) if len(message) == 5 else (_NO_HEADERS, None)
        tp = TopicPartition(topic, _partition(key, partitions[topic], hashes))
        batch = open_batches.get(tp)
        if batch is None or batch.append(timestamp=timestamp, key=key, value=value, headers=headers) is None:
            if batch is not None:  # full: it goes now, so that this partition's records keep their order
                pending.append(await producer.send_batch(batch, tp.topic, partition=tp.partition))
            batch = open_batches[tp] = producer.create_batch()
            # An empty batch takes any one record.
            batch.append(timestamp=timestamp, key=key, value=value, headers=headers)
    for tp, batch in open_batches.items():
        pending.append(await producer.send_batch(batch, tp.topic, partition=tp.partition))
    results = await asyncio.gather(*pending, return_exceptions=True)
    failure = next((result for result in results if isinstance(result, BaseException)), None)
    if failure is not None:
        raise failure


async def _partitions(producer: AIOKafkaProducer, topics: set[str]) -> dict[str, list[int]]:
    return {topic: sorted(await producer.partitions_for(topic)) for topic in topics}


def _partition(key: bytes | None, partitions: list[int], hashes: dict[bytes, int]) -> int:
    """The partition Kafka's default partitioner picks: murmur2 of the key, or any partition for no key."""
    if key is None:
        return random.choice(partitions)
    digest = hashes.get(key)
    if digest is None:
        digest = hashes[key] = murmur2(key) & 0x7FFFFFFF
    return partitions[digest % len(partitions)]


async def _with_retries(attempt: Attempt, timeout: float, step: str) -> None:
    """Run `attempt` until it succeeds; back off between tries; give up with DeliveryFailed after `timeout`."""
    deadline = time.monotonic() + timeout
    backoff = FIRST_BACKOFF_SECONDS
    while True:
        try:
            return await attempt()
        except ProducerFenced:
            raise DeliveryFailed("another worker with the same instance id took over its transactions") from None
        except KafkaError as error:
            reason = describe(error)
        if time.monotonic() + backoff > deadline:
            raise DeliveryFailed(f"{step} failed for {timeout:g} s: {reason}")
        metrics.DELIVERY_RETRIES.labels(step=step).inc()
        log.warning("batch.retrying", step=step, reason=reason, backoff_s=backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def describe(error: BaseException) -> str:
    """The error's class and message, once: aiokafka's messages often start with the class name already."""
    name, message = type(error).__name__, str(error)
    return message if message.startswith(name) else f"{name}: {message}"
