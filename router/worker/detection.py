"""Crisis detection in the worker: the signals topic in, the detector on event time, incidents and changelog out.

Every worker routes and sends the signals of the mentions that count; the signals topic has one partition, so
that one detector, in whichever worker the group gives it to, sees every scope as a replay's detector does
(a mention's scopes are decided together: the first with an incident open claims it). Its state is rebuilt
from the `routing.crisis` changelog when the partition is assigned, and a batch of signals is committed only
once the incident events, incident records and changelog entries it made are acknowledged (in the same
transaction with exactly_once). Every worker also reads the incident events from the start, so that routing
knows which scopes have an incident open.

The changelog and the commit go together at checkpoints, every `crisis_checkpoint_seconds` and at once when an
incident event is due: a scope counted many times between two checkpoints is written once. A restarted detector
rebuilds the state of the last checkpoint and reads the signals after it again, so none is counted twice.
"""

import asyncio
import time
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from router.crisis.detector import Detector, Entry
from router.crisis.events import IncidentEvent
from router.crisis.live import OpenIncidents, parse_signal
from router.crisis.records import changelog_messages, incident_messages
from router.crisis.settings import CrisisSettings
from router.crisis.signals import Signal
from router.kafka_io import client_options, ensure_topics, read_to_end
from router.rules import ConfigHolder
from router.settings import Settings
from router.worker.delivery import DeliveryFailed, describe
from router.worker.grouped import GroupService

log = structlog.get_logger("router.crisis")

MAX_SIGNALS = 5000  # per batch: a batch is one delivery, and one commit


class CrisisLoop(GroupService):
    """Detects incidents from the signals partition when this worker holds it; always watches the incidents."""

    def __init__(self, settings: Settings, holder: ConfigHolder, watch: "IncidentWatch", **kwargs):
        super().__init__(settings, f"{settings.app_id}.crisis", "crisis", **kwargs)
        self.holder, self.watch = holder, watch
        self._detectors: dict[int, Detector | None] = {}  # per signals partition held: its detector, once restored
        self.new: list[TopicPartition] = []  # assigned, paused until the detect loop has restored them
        # Since the last checkpoint: the scopes counted per partition, and the offsets to commit.
        self._touched: dict[int, dict[str, None]] = {}
        self._offsets: dict[TopicPartition, int] = {}
        self._checkpointed = time.monotonic()

    async def on_start(self) -> None:
        await self.start_clients(self.settings.signals_topic, _Rebalance(self))

    async def on_started(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def finish(self) -> None:
        """What was counted since the last checkpoint is kept."""
        if self._offsets:
            await self._checkpoint([])

    async def _run(self) -> None:
        steps = [asyncio.ensure_future(self.watch.read()), asyncio.ensure_future(self._detect())]
        try:
            done, _ = await asyncio.wait(steps, return_when=asyncio.FIRST_EXCEPTION)
            for step in done:
                step.result()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever stops detection, nothing more is committed
            reason = str(error) if isinstance(error, DeliveryFailed) else describe(error)
            log.error("crisis.stopped_without_commit", reason=reason)
            await self.crash(error)
        finally:
            for step in steps:
                step.cancel()

    async def _detect(self) -> None:
        interval = self.settings.crisis_checkpoint_seconds
        while True:
            if self.new:
                assigned, self.new = self.new, []
                await self._restore(assigned)
            wait = max(self._checkpointed + interval - time.monotonic(), 0.0) if self._offsets else 0.5
            fetched = await self.consumer.getmany(timeout_ms=int(wait * 1000), max_records=MAX_SIGNALS)
            async with self.busy:
                events = self._feed(fetched)
                if events or (self._offsets and time.monotonic() >= self._checkpointed + interval):
                    await self._checkpoint(events)

    def _feed(self, fetched: dict) -> list[IncidentEvent]:
        """Feed a batch's signals to their partition's detector, in event time; the incident events it said."""
        config = self.holder.current
        events: list[IncidentEvent] = []
        for tp, records in fetched.items():
            self._offsets[tp] = records[-1].offset + 1
            detector = self._detector(tp.partition, config.crisis)
            if detector is None:
                continue  # crisis mode is off: the signals are read and let go
            touched = self._touched.setdefault(tp.partition, {})
            # Two workers' deliveries interleave: in event time, the detector sees them as a replay of the archive.
            for signal in sorted(_signals(tp, records), key=lambda signal: signal.at):
                verdict = detector.feed(signal)
                touched.update(dict.fromkeys(verdict.touched))
                events += verdict.events
        return events

    async def _checkpoint(self, events: list[IncidentEvent]) -> None:
        """Deliver the incident events and the state of every scope counted since the last checkpoint; commit."""
        config, settings = self.holder.current, self.settings
        changelog: list[Entry] = []
        for partition, touched in self._touched.items():
            detector = self._detectors.get(partition)
            if detector is not None:
                changelog += detector.entries_of(touched)
        incidents = settings.incidents_topic
        messages = [message for event in events for message in incident_messages(event, config, incidents)]
        messages += changelog_messages(changelog, settings.crisis_topic)
        await self.delivery.deliver(messages, self._offsets)
        self._touched, self._offsets, self._checkpointed = {}, {}, time.monotonic()
        for event in events:
            log.info(f"incident.{event.state}", incident_id=event.incident_id, scope=event.scope, count=event.count,
                     baseline=event.baseline, trigger=event.trigger)

    def _detector(self, partition: int, settings: CrisisSettings | None) -> Detector | None:
        """The partition's detector, for the config's crisis section as it is now (its state carried over)."""
        detector = self._detectors.get(partition)
        if settings is None or not settings.enabled:
            return None
        if detector is None or detector.settings != settings:
            fresh = Detector(settings, changelog=False)
            for entry in detector.entries() if detector is not None else ():
                fresh.restore(*entry)
            detector = self._detectors[partition] = fresh
        return detector

    async def _restore(self, assigned: list[TopicPartition]) -> None:
        """Rebuild the detector of each signals partition from the changelog partition of its number."""
        started, entries, refused = time.perf_counter(), 0, 0
        settings = self.holder.current.crisis
        for tp in assigned:
            detector = Detector(settings, changelog=False) if settings is not None else None
            changelog = [TopicPartition(self.settings.crisis_topic, tp.partition)]
            async for chunk in read_to_end(self.settings, changelog, isolation_level=self.isolation):
                for key, value in chunk:
                    problem = detector.restore(key or b"", value) if detector is not None else None
                    refused += problem is not None
                    if problem is not None:
                        log.warning("crisis.entry_refused", reason=problem)
                entries += len(chunk)
            self._detectors[tp.partition] = detector
        self.consumer.resume(*assigned)
        log.info("crisis.restored", partitions=sorted(tp.partition for tp in assigned), entries=entries,
                 refused=refused, seconds=round(time.perf_counter() - started, 2))

    async def revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self.busy:
            await self.finish()  # the next holder of a partition starts from what was counted here
            await self.delivery.flush()
            for tp in revoked:
                self._detectors.pop(tp.partition, None)


def _signals(tp: TopicPartition, records: list) -> list[Signal]:
    """The signals of a partition's records; one that holds none is logged and let go."""
    signals = []
    for record in records:
        signal = parse_signal(record.value)
        if isinstance(signal, str):
            log.warning("crisis.signal_refused", partition=tp.partition, offset=record.offset, reason=signal)
        else:
            signals.append(signal)
    return signals


class IncidentWatch:
    """Reads every incident event, from the first, into the incidents routing applies."""

    def __init__(self, settings: Settings, incidents: OpenIncidents):
        self.settings, self.incidents = settings, incidents
        self.isolation = "read_committed" if settings.processing_guarantee == "exactly_once" else "read_uncommitted"
        self._positions: dict[TopicPartition, int] = {}  # where reading goes on from

    async def catch_up(self) -> int:
        """Read the events written so far, before the worker routes anything; how many there were."""
        return await self.read(until_end=True)

    async def read(self, until_end: bool = False) -> int:
        """Read on from where the last read stopped: to the end there is now, or for ever."""
        topic, read = self.settings.incidents_topic, 0
        consumer = AIOKafkaConsumer(**client_options(self.settings), enable_auto_commit=False,
                                    isolation_level=self.isolation)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, n) for n in (await ensure_topics(self.settings, [topic]))[topic]]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*[tp for tp in partitions if tp not in self._positions])
            for tp in partitions:
                if tp in self._positions:
                    consumer.seek(tp, self._positions[tp])
            ends = await consumer.end_offsets(partitions) if until_end else None
            while ends is None or any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                    for message in messages:
                        self._apply(message.value, message.partition, message.offset)
                    read += len(messages)
                    self._positions[tp] = messages[-1].offset + 1
        finally:
            await consumer.stop()
        return read

    def _apply(self, value: bytes | None, partition: int, offset: int) -> None:
        problem = self.incidents.apply(value)
        if problem is not None:
            log.warning("incident.event_refused", partition=partition, offset=offset, reason=problem)


class _Rebalance(ConsumerRebalanceListener):
    """A signals partition given to this worker is read once its detector is rebuilt; one taken away is let go.

    aiokafka only logs what a listener raises: the restore runs in the detect loop, where a failure stops the worker.
    """

    def __init__(self, loop: CrisisLoop):
        self._loop = loop

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._loop.revoked(revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._loop.new = sorted(assigned)
        self._loop.consumer.pause(*self._loop.new)
