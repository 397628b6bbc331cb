"""Plain aiokafka producing and collecting, for feeding archives in and reading results back."""

import asyncio
import time
from collections.abc import Callable, Collection, Iterable
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


async def ensure_topics(settings: Settings, names: Iterable[str]) -> dict[str, list[int]]:
    """Create the topics that are missing; returns every topic's partitions."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        wanted = sorted(set(names))
        missing = sorted(set(wanted) - set(await admin.list_topics()))
        if missing:
            new = [NewTopic(name, settings.topic_partitions, settings.topic_replication_factor) for name in missing]
            response = await admin.create_topics(new)
            for topic, code, *_ in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise RouterError(f"cannot create topic {topic}: Kafka error code {code}")
        described = await admin.describe_topics(wanted)
        return {item["topic"]: sorted(p["partition"] for p in item["partitions"]) for item in described}
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
        deadline = time.monotonic() + timeout
        while sum(r.topic in counting for r in received) < until and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                received += [Received(m.topic, m.partition, m.offset, m.key, m.value) for m in messages]
        return received
