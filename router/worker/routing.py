"""Routing a fetched batch into the messages to produce: in the event loop, or in processes of their own.

Classifying is CPU work that would stall the event loop while the previous batch's sends wait for
their acknowledgements. With `INBOX_ROUTING_PROCESSES` >= 1 the whole pure path (decode, classify,
decide, serialise) runs in child processes, so that the loop only moves bytes between Kafka and them.
"""

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import structlog

from router.classify.model import Classifier
from router.errors import DeadLetterKind, RouterError
from router.logs import configure_logging
from router.pipeline import DeadLettered, Message, Outcome, Record, Router, messages_for, route_batch
from router.rules import ConfigHolder, RoutingConfig
from router.rules.config import compile_text
from router.rules.yamltext import YamlText
from router.settings import Settings
from router.worker.fault_injection import RaisingClassifier

log = structlog.get_logger("router.worker")

PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ConfigText:
    """A config as the holder compiled it: what a child process needs to compile the very same one."""

    path: Path
    hash: str
    data: bytes


@dataclass(slots=True)
class Tally:
    """What the loop counts in its metrics once a batch is delivered."""

    routed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (label, owner)
    dead: Counter[str] = field(default_factory=Counter)  # by kind
    produced_at: list[float] = field(default_factory=list)  # each routed record's timestamp

    @property
    def outcomes(self) -> int:
        return sum(self.routed.values()) + sum(self.dead.values())


@dataclass(frozen=True, slots=True)
class RoutedBatch:
    messages: list[Message]
    tally: Tally


def route_records(records: Sequence[Record], router: Router, settings: Settings) -> RoutedBatch:
    """The batch's messages in input order, and its tally; logs each dead letter (and each mention at debug)."""
    outcomes = route_batch(records, router, datetime.now(timezone.utc))
    messages = [message for outcome in outcomes for message in fitted_messages(outcome, settings)]
    return RoutedBatch(messages, _tally(outcomes))


def fitted_messages(outcome: Outcome, settings: Settings) -> list[Message]:
    """The outcome's messages; one that would not fit in a Kafka record turns the outcome into a dead letter."""
    topics = {"decisions_topic": settings.decisions_topic, "dead_letter_topic": settings.dead_letter_topic}
    messages = messages_for(outcome, **topics)
    largest = max(len(message.value) + len(message.key or b"") for message in messages)
    if largest <= settings.max_message_bytes:
        return messages
    kind = DeadLetterKind.OUTPUT_TOO_LARGE
    reason = f"{kind}: {largest} bytes, limit {settings.max_message_bytes}"
    return messages_for(DeadLettered(outcome.record, reason, kind), **topics)


def _tally(outcomes: list[Outcome]) -> Tally:
    tally = Tally()
    # Checked once a batch: at INFO the per-mention line would otherwise be built and dropped for every mention.
    debug = log.is_enabled_for(logging.DEBUG)
    for outcome in outcomes:
        record = outcome.record
        if isinstance(outcome, DeadLettered):
            tally.dead[outcome.kind.value] += 1
            log.warning("mention.dead_lettered", reason=outcome.reason, topic=record.topic,
                        partition=record.partition, offset=record.offset)
            continue
        tally.routed[outcome.classification.label, outcome.decision.owner] += 1
        tally.produced_at.append(record.timestamp)
        if debug:
            log.debug("mention.routed", id=outcome.mention.id, source=outcome.mention.source,
                      label=outcome.classification.label, confidence=outcome.routing.confidence,
                      owner=outcome.decision.owner, queues=list(outcome.decision.queues),
                      route="/".join(outcome.decision.route), partition=record.partition, offset=record.offset)
    return tally


def load_classifier(settings: Settings) -> Classifier | RaisingClassifier:
    classifier = Classifier.load(settings.model_dir)
    return RaisingClassifier(classifier, settings.fail_routing_on) if settings.fail_routing_on else classifier


class InlineRouting:
    """Routes in the event loop: one process, for a small deployment or a machine with one core."""

    def __init__(self, settings: Settings, holder: ConfigHolder):
        self._settings, self._holder = settings, holder
        self._classifier = load_classifier(settings)
        self.model_version = self._classifier.version

    async def route(self, records: Sequence[Record]) -> RoutedBatch:
        return route_records(records, Router(self._classifier, self._holder.current), self._settings)

    def stop(self) -> None:
        pass


class ProcessRouting:
    """Routes in child processes; batches are handed out in turn and their results awaited in order.

    Children are spawned, not forked: the parent runs threads (aiokafka, faust) that a fork would copy
    mid-flight. Each child loads the model once and compiles each config version it is sent once.
    A child that dies breaks the pool: the batches it held fail, nothing of them is committed, and
    the worker stops.
    """

    def __init__(self, settings: Settings, holder: ConfigHolder):
        self._settings, self._holder = settings, holder
        self._pool = ProcessPoolExecutor(settings.routing_processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_child, initargs=(settings, os.getpid()))
        self._config: ConfigText | None = None
        # Every child loads the model before the worker joins the group; a broken model stops it here.
        versions = {future.result() for future in [self._pool.submit(_model_version)
                                                   for _ in range(settings.routing_processes)]}
        self.model_version = versions.pop()

    async def route(self, records: Sequence[Record]) -> RoutedBatch:
        config = self._config_text(self._holder.current)
        return await asyncio.get_running_loop().run_in_executor(self._pool, _route_in_child, list(records), config)

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _config_text(self, current: RoutingConfig) -> ConfigText:
        if self._config is None or self._config.hash != current.hash:
            self._config = ConfigText(current.path, current.hash, self._holder.current_data)
        return self._config


# One child's state: its settings, its classifier (or why it could not load) and the configs it compiled, by hash.
_child: dict = {}


def _start_child(settings: Settings, parent: int) -> None:
    # The parent stops its children itself; Ctrl-C in a terminal reaches the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    configure_logging(settings.log_format, settings.log_level)
    try:
        _child.update(settings=settings, classifier=load_classifier(settings), configs={})
    except RouterError as error:
        _child.update(error=error)  # raised again by the first task, in the parent: a clear reason, not a dead pool
        return
    gc.freeze()  # the model lives as long as the process: the garbage collector need not rescan it


def _exit_with(parent: int) -> None:
    """A worker killed with SIGKILL cannot stop its children: they notice and leave."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _model_version() -> str:
    if "error" in _child:
        raise _child["error"]
    return _child["classifier"].version


def _route_in_child(records: list[Record], text: ConfigText) -> RoutedBatch:
    configs: dict[str, RoutingConfig] = _child["configs"]
    config = configs.get(text.hash)
    if config is None:
        configs.clear()  # the previous version is not needed again: a reload only goes forward
        config = configs[text.hash] = compile_text(YamlText(text.path, text.data))
    return route_records(records, Router(_child["classifier"], config), _child["settings"])


def make_routing(settings: Settings, holder: ConfigHolder) -> InlineRouting | ProcessRouting:
    started = time.perf_counter()
    routing = ProcessRouting(settings, holder) if settings.routing_processes else InlineRouting(settings, holder)
    log.info("routing.ready", processes=settings.routing_processes, model_version=routing.model_version,
             load_s=round(time.perf_counter() - started, 2))
    return routing
