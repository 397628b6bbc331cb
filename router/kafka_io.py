"""Plain aiokafka producing and collecting, for feeding archives in and reading results back."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass
from ssl import SSLContext

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from router.errors import RouterError
from router.settings import Settings

_TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


def client_options(settings: Settings) -> dict:
    """aiokafka connection options from the same settings the worker uses."""
    options: dict = {"bootstrap_servers": settings.kafka_bootstrap_servers,
                     "security_protocol": settings.kafka_security_protocol}
    if "SSL" in settings.kafka_security_protocol:
        options["ssl_context"] = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism, sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.sasl_password)
    return options


def ssl_context(settings: Settings) -> SSLContext:
    """TLS with the system's CAs, or the configured CA file, and an optional client certificate."""
    return create_ssl_context(
        cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile
    )


async def ensure_topics(settings: Settings, names: Iterable[str], *, partitions: int | None = None,
                        compacted: bool = False) -> dict[str, list[int]]:
    """Create the topics that are missing (compacted: the last record of each key is kept); returns their partitions."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        wanted = sorted(set(names))
        missing = sorted(set(wanted) - set(await admin.list_topics()))
        if missing:
            configs = {"cleanup.policy": "compact"} if compacted else {}
            new = [NewTopic(name, partitions or settings.topic_partitions, settings.topic_replication_factor,
                            topic_configs=configs) for name in missing]
            response = await admin.create_topics(new)
            for topic, code, *_ in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise RouterError(f"cannot create topic {topic}: Kafka error code {code}")
        return await _partitions(admin, wanted)
    finally:
        await admin.close()


async def _partitions(admin: AIOKafkaAdminClient, topics: list[str], wait: float = 10.0) -> dict[str, list[int]]:
    """Each topic's partitions, once the broker describes them all: a topic just created may show none yet."""
    deadline = time.monotonic() + wait
    while True:
        described = await admin.describe_topics(topics)
        found = {item["topic"]: sorted(p["partition"] for p in item["partitions"]) for item in described}
        if all(found.get(topic) for topic in topics) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def ensure_copartitioned(settings: Settings, source: str, topics: Iterable[str], *, compacted: bool) -> None:
    """Topics with as many partitions as `source`: a key's records and state live in partitions of one number."""
    count = len((await ensure_topics(settings, [source]))[source])
    found = await ensure_topics(settings, topics, partitions=count, compacted=compacted)
    for topic, partitions in found.items():
        if len(partitions) != count:
            raise RouterError(f"topic {topic} has {len(partitions)} partitions and {source} {count}: "
                              f"they must have as many, so that a thread's state lives beside its mentions")


async def ensure_signals(settings: Settings) -> None:
    """The crisis signals topic and the detector's changelog, one partition each: one detector sees every scope."""
    found = await ensure_topics(settings, [settings.signals_topic], partitions=1)
    if len(found[settings.signals_topic]) != 1:
        raise RouterError(f"topic {settings.signals_topic} has {len(found[settings.signals_topic])} partitions: "
                          f"crisis detection needs one, so that one detector counts every scope")
    await ensure_copartitioned(settings, settings.signals_topic, [settings.crisis_topic], compacted=True)


async def delete_topics_of_run(settings: Settings, run: str) -> list[str]:
    """Deletes the topics named after a run (`run.*` or `run-*`), and only those: tests and benches clean up."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        ours = sorted(name for name in await admin.list_topics() if name.startswith((f"{run}.", f"{run}-")))
        if ours:
            await admin.delete_topics(ours)
        return ours
    finally:
        await admin.close()


async def publish(settings: Settings, topic: str, records: Iterable[tuple[bytes | None, bytes | None]],
                  rate: float | None = None, *, schedule: Callable[[bytes | None], float] | None = None) -> int:
    """Produce (key, value) records in order; returns the count.

    Paced by `rate` (at most that many per second) when given, else by `schedule`, which says how many
    seconds after the start each record value is due (a replay at the original pace).
    """
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    sent, started = 0, time.monotonic()
    try:
        for key, value in records:
            if rate:
                await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
            elif schedule is not None:
                await asyncio.sleep(max(0.0, started + schedule(value) - time.monotonic()))
            await producer.send(topic, value=value, key=key)
            sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


class Collector:
    """Reads what lands on some topics from the moment it starts, without a consumer group.

    `isolation_level="read_committed"` shows only what committed transactions wrote, as a downstream
    consumer of an exactly-once worker would see it.
    """

    def __init__(self, settings: Settings, topics: Iterable[str], *, isolation_level: str = "read_uncommitted"):
        self._consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False,
                                          isolation_level=isolation_level)
        self._topics = sorted(set(topics))
        self._settings = settings

    async def __aenter__(self) -> "Collector":
        partitions = [
            TopicPartition(topic, partition)
            for topic, numbers in (await ensure_topics(self._settings, self._topics)).items()
            for partition in numbers
        ]
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:  # resolve the end offsets now, before anything is produced
            await self._consumer.position(partition)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._consumer.stop()

    async def collect(self, until: int, counting: Collection[str], timeout: float) -> list[Received]:
        """Everything received until `until` records arrived on the `counting` topics, or the timeout passed."""
        received: list[Received] = []
        counted = 0  # kept as it goes: a sum over everything received, at each fetch, cost a bench seconds of CPU
        deadline = time.monotonic() + timeout
        while counted < until and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=200)
            for tp, messages in batches.items():
                received += [Received(m.topic, m.partition, m.offset, m.key, m.value) for m in messages]
                counted += len(messages) if tp.topic in counting else 0
        return received


async def read_to_end(settings: Settings, partitions: Collection[TopicPartition], *, isolation_level: str,
                      chunk: int = 10_000) -> AsyncIterator[list[tuple[bytes | None, bytes | None]]]:
    """The (key, value) of every record in the partitions, from the first to the end they had when asked."""
    if not partitions:
        return
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False, isolation_level=isolation_level)
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        await consumer.seek_to_beginning(*partitions)
        # Under read_committed the end is the last stable offset: what committed transactions wrote.
        ends = await consumer.end_offsets(list(partitions))
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=chunk)
            records = [(m.key, m.value) for messages in fetched.values() for m in messages]
            if records:
                yield records
    finally:
        await consumer.stop()


async def read_topic(settings: Settings, topic: str) -> list[bytes | None]:
    """Every committed record value of a topic, partition after partition, each in order."""
    partitions = [TopicPartition(topic, n) for n in (await ensure_topics(settings, [topic]))[topic]]
    return [value async for chunk in read_to_end(settings, partitions, isolation_level="read_committed")
            for _, value in chunk]


async def caught_up(settings: Settings, group: str, topic: str, timeout: float) -> bool:
    """Wait until the group has committed every record of the topic written when asked; whether it did in time.

    A transaction's commit marker takes an offset of its own: past the group's offset, only markers may be left.
    """
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=group, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, n) for n in (await ensure_topics(settings, [topic]))[topic]]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            behind = [tp for tp in partitions if (await consumer.committed(tp) or 0) < ends[tp]]
            for tp in behind:
                consumer.seek(tp, await consumer.committed(tp) or 0)
            fetched = await consumer.getmany(*behind, timeout_ms=200) if behind else {}
            if not any(fetched.values()) and all([await consumer.position(tp) >= ends[tp] for tp in behind]):
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await consumer.stop()
