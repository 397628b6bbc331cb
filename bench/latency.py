"""The worker's latency at a steady offered load: from each record's publish to the arrival of its decision.

A record the worker hands to the careful lane (a config's careful_below) arrives when it reaches the careful
topic: that is the worker's verdict on it; the careful lane's own pace is bench_careful.py's.
"""

import asyncio
import json
import math
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from records import Sample

from router.kafka_io import client_options, ensure_topics
from router.replay.pacing import first_mention
from router.settings import Settings


@dataclass(frozen=True, slots=True)
class Latency:
    offered_per_s: float
    decisions: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


async def measure(settings: Settings, samples: list[Sample], rate: float) -> Latency:
    """Publishes `samples` at `rate` per second while reading the decisions as they arrive.

    A record's publish time is its Kafka timestamp, which the producer stamps as it is sent and the
    broker acknowledges back; the arrival is when this process reads the decision, on the same clock.
    Dead letters have no decision.
    """
    consumer = await _reader(settings, [settings.decisions_topic, settings.careful_topic])
    try:
        deadline = time.monotonic() + len(samples) / rate + 120
        wanted = {sample.mention_id for sample in samples if sample.mention_id}
        publishing = asyncio.create_task(_publish(settings, samples, rate))
        arrived = await _arrivals(consumer, wanted, deadline, settings.careful_topic)
        sent, stamps = await publishing
    finally:
        await consumer.stop()
    if len(arrived) < len(wanted):
        raise SystemExit(f"{settings.app_id}: only {len(arrived):,} of {len(wanted):,} decisions arrived")
    millis = sorted((arrived[mention] - sent[mention]) * 1000 for mention in arrived)
    # The load the broker saw, from the records' own timestamps: the producer's start-up is not part of it.
    offered = (len(stamps) - 1) / max(max(stamps) - min(stamps), 1e-3)
    return Latency(offered, len(millis), *(_percentile(millis, p) for p in (50, 95, 99)))


async def _publish(settings: Settings, samples: list[Sample], rate: float) -> tuple[dict[str, float], list[float]]:
    """Sends at `rate`; the timestamp of each record, by mention id, and of every record."""
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    try:
        started, acknowledgements = time.monotonic(), []
        for sent, sample in enumerate(samples):
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
            acknowledgements.append(await producer.send(settings.input_topic, value=sample.value))
        stamps = [metadata.timestamp / 1000 for metadata in await asyncio.gather(*acknowledgements)]
    finally:
        await producer.stop()
    sent_at = {sample.mention_id: stamp for sample, stamp in zip(samples, stamps) if sample.mention_id}
    return sent_at, stamps


async def _reader(settings: Settings, topics: list[str]) -> AIOKafkaConsumer:
    """A consumer at the end of every partition of the topics, positions resolved before anything is sent."""
    partitions = [TopicPartition(topic, number)
                  for topic, numbers in (await ensure_topics(settings, topics)).items() for number in numbers]
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def _arrivals(consumer: AIOKafkaConsumer, wanted: set[str], deadline: float,
                    careful_topic: str) -> dict[str, float]:
    """When each wanted mention's decision, or its record on the careful topic, arrived, until all have or the
    deadline passes."""
    arrived: dict[str, float] = {}
    while len(arrived) < len(wanted) and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=100)
        now = time.time()
        for messages in batches.values():
            for message in messages:
                if message.topic == careful_topic:  # the record as it was published
                    first = first_mention(message.value)
                    mention = first.id if first is not None else None
                else:
                    mention = json.loads(message.value)["mention_id"]
                if mention in wanted:
                    arrived.setdefault(mention, now)  # a redelivery is not news
    return arrived


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest rank: the smallest value that at least `percent` % of the values do not exceed."""
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]
