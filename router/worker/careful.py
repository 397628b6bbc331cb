"""The careful lane: reads the records the worker set aside, labels them with the cascade, and hands them back.

A service of its own (`inbox-router careful`, consumer group `<app_id>.careful`), so that the worker keeps the
fast model's throughput and the careful lane scales by starting more of it. Each record goes back unchanged to
the labelled topic, keyed as it came (so on the partition number of its input partition, where the worker that
holds its thread reads it), with its labels in one header (carried.py). A batch's offsets are committed only
once those records are acknowledged (in the same transaction with exactly_once); a record that is not a
mention goes to the dead-letter topic with its bytes and the reason.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition

from router import metrics
from router.classify.careful import for_config
from router.classify.classifier import Classifier
from router.classify.labels import CAREFUL_STAGE, FAST_STAGE
from router.pipeline import DeadLettered, Record, classify_batch, decode_batch
from router.rules import ConfigHolder, RoutingConfig
from router.settings import Settings
from router.worker import carried
from router.worker.delivery import DeliveryFailed, Outgoing, describe
from router.worker.grouped import GroupService
from router.worker.lanes import handed_on
from router.worker.loop import _record
from router.worker.models import ModelHolder
from router.worker.routing import fitted_messages, load_classifier

log = structlog.get_logger("router.careful")


@dataclass(slots=True)
class Labelled:
    """A batch's records as the careful lane hands them on, and what its metrics count."""

    messages: list[Outgoing] = field(default_factory=list)
    stages: Counter[str] = field(default_factory=Counter)  # records handed back, by the stage of their labels
    dead: Counter[str] = field(default_factory=Counter)  # records dead-lettered, by kind


def label_batch(records: Sequence[Record], classifier: Classifier, settings: Settings) -> Labelled:
    """Each record with its labels, to the labelled topic; one that is not a mention, to the dead-letter topic."""
    decoded = decode_batch(records)
    labelled = Labelled()
    for record, labels in zip(records, classify_batch(records, decoded, classifier)):
        if not isinstance(labels, DeadLettered):
            header = carried.encode(classifier.version, classifier.threshold, labels)
            message = handed_on(record, settings.labelled_topic, settings.max_message_bytes,
                                carried.with_header(record.headers, header))
            if not isinstance(message, DeadLettered):
                labelled.messages.append(message)
                labelled.stages[CAREFUL_STAGE if any(c.stage == CAREFUL_STAGE for c in labels) else FAST_STAGE] += 1
                continue
            labels = message
        labelled.messages += fitted_messages(labels, settings)
        labelled.dead[labels.kind.value] += 1
        log.warning("mention.dead_lettered", reason=labels.reason, topic=record.topic, partition=record.partition,
                    offset=record.offset)
    return labelled


class CarefulLane(GroupService):
    """Consumes the careful topic with manual commits; a batch's offsets are committed only once handed back."""

    def __init__(self, settings: Settings, holder: ConfigHolder, models: ModelHolder, **kwargs):
        super().__init__(settings, f"{settings.app_id}.careful", "careful", **kwargs)
        self.holder, self.models = holder, models
        self._model = models.current
        self._fast = load_classifier(settings, self._model)
        self.model_version = self.classifier(holder.current).version
        self._stopping = False

    def classifier(self, config: RoutingConfig) -> Classifier:
        """The cascade of the config (the fast model alone when it sets no careful_below), the fast model reloaded."""
        if self.models.current is not self._model:  # a reloaded model, checked already: it loads
            self._model = self.models.current
            self._fast = load_classifier(self.settings, self._model)
        return for_config(self._fast, config)

    async def on_start(self) -> None:
        fetch = max(self.settings.max_message_bytes, 1024 * 1024)
        await self.start_clients(self.settings.careful_topic, _Rebalance(self), max_partition_fetch_bytes=fetch)

    async def on_started(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def on_stop(self) -> None:
        self._stopping = True
        await super().on_stop()
        log.info("careful.stopped")

    async def _run(self) -> None:
        try:
            while not self._stopping:
                fetched = await self.consumer.getmany(timeout_ms=int(self.settings.batch_wait_seconds * 1000),
                                                      max_records=self.settings.batch_size)
                self.heartbeat = time.monotonic()
                if fetched:
                    async with self.busy:
                        await self._deliver(fetched)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever stops the lane, nothing more is committed
            reason = str(error) if isinstance(error, DeliveryFailed) else describe(error)
            metrics.WORKER_STOPS.labels(reason=type(error).__name__).inc()
            log.error("careful.stopped_without_commit", reason=reason)
            await self.crash(error)

    async def _deliver(self, fetched: dict) -> None:
        """Label a batch (in a thread: the event loop keeps the group's heartbeats), hand it back, commit."""
        started = time.perf_counter()
        records = [_record(message) for messages in fetched.values() for message in messages]
        classifier = self.classifier(self.holder.current)
        labelled = await asyncio.to_thread(label_batch, records, classifier, self.settings)
        labelled_at = time.perf_counter()
        offsets = {tp: messages[-1].offset + 1 for tp, messages in fetched.items()}
        await self.delivery.deliver(labelled.messages, offsets)
        for stage, count in labelled.stages.items():
            metrics.CAREFUL_LABELLED.labels(stage=stage).inc(count)
        for reason, count in labelled.dead.items():
            metrics.MENTIONS_DEAD_LETTERED.labels(reason=reason).inc(count)
        log.info("careful.delivered", records=len(records), stages=dict(labelled.stages),
                 dead_lettered=sum(labelled.dead.values()), model_version=classifier.version,
                 offsets={f"{tp.topic}/{tp.partition}": offset for tp, offset in offsets.items()},
                 label_ms=round((labelled_at - started) * 1000, 1),
                 deliver_ms=round((time.perf_counter() - labelled_at) * 1000, 1))

    async def revoked(self) -> None:
        """A partition taken away: the batch in hand is delivered and its commit awaited first."""
        async with self.busy:
            await self.delivery.flush()


class _Rebalance(ConsumerRebalanceListener):
    """The careful lane holds no state: a partition taken away only waits for the batch in hand."""

    def __init__(self, lane: CarefulLane):
        self._lane = lane

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._lane.revoked()
        log.info("partitions.revoked", partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        log.info("partitions.assigned", partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned))
