"""The faust app: read raw mentions in batches, route them with the pure pipeline, produce the results."""

import time
from datetime import datetime, timezone

import faust
import structlog
from faust.types import Message
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from router import metrics
from router.classify.model import Classifier
from router.kafka_io import ensure_topics
from router.pipeline import DeadLettered, Outcome, Record, Router, messages_for, route_batch
from router.rules import ConfigHolder
from router.settings import Settings
from router.worker.credentials import broker_credentials

log = structlog.get_logger("router.worker")


def create_app(settings: Settings, classifier: Classifier, holder: ConfigHolder) -> faust.App:
    """A faust app whose one agent routes the input topic; config reloads run on a timer."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=broker_credentials(settings),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        web_port=settings.web_port,
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
    )
    source = app.topic(settings.input_topic, key_type=bytes, value_type=bytes)
    topics: dict[str, faust.TopicT] = {}

    def topic(name: str) -> faust.TopicT:
        if name not in topics:
            topics[name] = app.topic(name, key_type=bytes, value_type=bytes)
        return topics[name]

    @app.timer(interval=settings.config_reload_seconds)
    async def reload_config() -> None:
        if holder.reload_if_changed():
            await ensure_topics(settings, worker_topics(settings, holder))

    @app.agent(source)
    async def route(stream: faust.StreamT) -> None:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_wait_seconds):
            records = [_record(event.message) for event in events]
            outcomes = route_batch(records, Router(classifier, holder.current), datetime.now(timezone.utc))
            # One send at a time: concurrent sends could overtake each other under backpressure,
            # and a thread's mentions must reach each queue in the order they arrived.
            for outcome in outcomes:
                for message in messages_for(outcome, decisions_topic=settings.decisions_topic,
                                            dead_letter_topic=settings.dead_letter_topic):
                    await topic(message.topic).send(key=message.key, value=message.value)
                _observe(outcome)

    @app.page("/metrics")
    async def metrics_page(web, request):  # noqa: ANN001 - faust's view signature
        # aiohttp sets the charset itself and refuses one inside content_type.
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4")

    return app


def worker_topics(settings: Settings, holder: ConfigHolder) -> set[str]:
    """Every topic the worker reads or writes with the current config."""
    return holder.current.topics() | {settings.input_topic, settings.decisions_topic, settings.dead_letter_topic}


def _record(message: Message) -> Record:
    return Record(message.value, message.key, message.topic, message.partition, message.offset, message.timestamp)


def _observe(outcome: Outcome) -> None:
    """The canonical log line and the metrics of one outcome."""
    if isinstance(outcome, DeadLettered):
        metrics.MENTIONS_DEAD_LETTERED.labels(reason=outcome.reason.split(":")[0]).inc()
        record = outcome.record
        log.warning("mention.dead_lettered", reason=outcome.reason, topic=record.topic,
                    partition=record.partition, offset=record.offset)
        return
    latency = max(time.time() - outcome.record.timestamp, 0.0)
    metrics.MENTIONS_ROUTED.labels(label=outcome.classification.label, owner=outcome.decision.owner).inc()
    metrics.ROUTING_LATENCY.observe(latency)
    log.info("mention.routed", id=outcome.mention.id, source=outcome.mention.source,
             label=outcome.classification.label, confidence=outcome.routing["confidence"],
             owner=outcome.decision.owner, queues=list(outcome.decision.queues),
             route="/".join(outcome.decision.route), latency_ms=round(latency * 1000, 1))
