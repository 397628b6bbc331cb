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

TICK = 10  # records published per wake-up: 5 ms apart at 2,000/s
WARM_SECONDS = 3.0  # of the offered load before the measured part
_HEAD = b'{"mention_id":"'


@dataclass(frozen=True, slots=True)
class Latency:
    offered_per_s: float
    decisions: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


async def measure(settings: Settings, samples: list[Sample], rate: float) -> Latency:
    """Publishes `samples` at `rate` per second while reading the decisions as they arrive.

    The first WARM_SECONDS of them are not measured: a fresh worker meets the load first there (its first
    deliveries to each topic, its first checkpoints), and the figures are those of its steady state.
    A record's publish time is when it was appended to the batch that sends it; the arrival is when this process
    reads the decision, on the same clock.
    Dead letters have no decision.
    """
    consumer = await _reader(settings, [settings.decisions_topic, settings.careful_topic])
    try:
        deadline = time.monotonic() + len(samples) / rate + 120
        measured = samples[int(rate * WARM_SECONDS):]
        wanted = {sample.mention_id for sample in measured if sample.mention_id}
        publishing = asyncio.create_task(_publish(settings, samples, rate))
        arrived = await _arrivals(consumer, wanted, deadline, settings.careful_topic)
        sent, stamps = await publishing
    finally:
        await consumer.stop()
    if len(arrived) < len(wanted):
        raise SystemExit(f"{settings.app_id}: only {len(arrived):,} of {len(wanted):,} decisions arrived")
    millis = sorted((arrived[mention] - sent[mention]) * 1000 for mention in arrived)
    # The load offered, from the records' own stamps: the producer's start-up is not part of it.
    offered = (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-3)
    return Latency(offered, len(millis), *(_percentile(millis, p) for p in (50, 95, 99)))


async def _publish(settings: Settings, samples: list[Sample], rate: float) -> tuple[dict[str, float], list[float]]:
    """Sends at `rate`; the timestamp of each record, by mention id, and of every record."""
    producer = AIOKafkaProducer(**client_options(settings), acks="all", max_batch_size=256 * 1024)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(settings.input_topic))
        started, acknowledgements, stamps = time.monotonic(), [], []
        # One batch a tick, to each partition in turn: a send per record cost the publisher, which shares the
        # cores with the worker under test, several times more CPU. Each record is stamped as it is appended.
        for tick, first in enumerate(range(0, len(samples), TICK)):
            await asyncio.sleep(max(0.0, started + first / rate - time.monotonic()))
            partition, batch = partitions[tick % len(partitions)], producer.create_batch()
            for sample in samples[first : first + TICK]:
                stamps.append(time.time())
                if batch.append(timestamp=None, key=None, value=sample.value) is None:  # full: it goes first
                    acknowledgements.append(await producer.send_batch(batch, settings.input_topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(timestamp=None, key=None, value=sample.value)
            acknowledgements.append(await producer.send_batch(batch, settings.input_topic, partition=partition))
        await asyncio.gather(*acknowledgements)
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
                    mention = _mention_id(message.value)
                if mention in wanted:
                    arrived.setdefault(mention, now)  # a redelivery is not news
    return arrived


def _mention_id(decision: bytes) -> str:
    """A decision's mention id; it comes first, so a plain id is read without parsing the whole document."""
    if decision.startswith(_HEAD):
        end = decision.find(b'"', len(_HEAD))
        if end > 0 and b"\\" not in decision[len(_HEAD):end]:
            return decision[len(_HEAD):end].decode()
    return json.loads(decision)["mention_id"]


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest rank: the smallest value that at least `percent` % of the values do not exceed."""
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]
