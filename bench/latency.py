"""End-to-end latency at a steady offered load: from each record's publish to the arrival of its decision."""

import asyncio
import json
import math
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from records import Sample

from router.kafka_io import client_options, ensure_topics, publish
from router.settings import Settings


@dataclass(frozen=True, slots=True)
class Latency:
    offered_per_s: float
    decisions: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


async def measure(settings: Settings, samples: list[Sample], rate: float) -> Latency:
    """Publishes `samples` at `rate` per second while reading back the input records and the decisions.

    A record's publish time is its Kafka timestamp (the producer stamps it as it is sent); the arrival
    is when this process reads the decision, on the same clock. Dead letters have no decision.
    """
    ids = {sample.value: sample.mention_id for sample in samples if sample.mention_id}
    consumer = await _reader(settings, [settings.input_topic, settings.decisions_topic])
    try:
        deadline = time.monotonic() + len(samples) / rate + 120
        publishing = asyncio.create_task(publish(settings, settings.input_topic, ((None, s.value) for s in samples),
                                                 rate=rate))
        sent, arrived, stamps = await _track(consumer, settings, ids, len(samples), deadline)
        await publishing
    finally:
        await consumer.stop()
    if len(arrived) < len(ids) or len(stamps) < len(samples):
        raise SystemExit(f"{settings.app_id}: only {len(arrived):,} of {len(ids):,} decisions arrived "
                         f"({len(stamps):,} of {len(samples):,} inputs read back)")
    millis = sorted((arrived[mention] - sent[mention]) * 1000 for mention in arrived)
    # The load the broker saw, from the records' own timestamps: the producer's start-up is not part of it.
    offered = (len(stamps) - 1) / max(max(stamps) - min(stamps), 1e-3)
    return Latency(offered, len(millis), *(_percentile(millis, p) for p in (50, 95, 99)))


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


async def _track(consumer: AIOKafkaConsumer, settings: Settings, ids: dict[bytes, str], inputs: int,
                 deadline: float) -> tuple[dict[str, float], dict[str, float], list[float]]:
    """Publish and decision arrival times by mention id, and every input's publish time, until all are in."""
    wanted = set(ids.values())
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    stamps: list[float] = []
    while (len(arrived) < len(ids) or len(stamps) < inputs) and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=100)
        now = time.time()
        for messages in batches.values():
            for message in messages:
                if message.topic == settings.decisions_topic:
                    mention = json.loads(message.value)["mention_id"]
                    if mention in wanted:
                        arrived.setdefault(mention, now)  # a redelivery is not news
                else:
                    stamps.append(message.timestamp / 1000)
                    if message.value in ids:
                        sent[ids[message.value]] = stamps[-1]
    return sent, arrived, stamps


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest rank: the smallest value that at least `percent` % of the values do not exceed."""
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]
