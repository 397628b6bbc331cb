"""A service reading a topic of its own in a consumer group of its own, a batch at a time, beside the routing loop."""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from mode import Service

from router.kafka_io import client_options
from router.settings import Settings
from router.worker.delivery import AtLeastOnce, ExactlyOnce, Producer
from router.worker.loop import Health, _producer

log = structlog.get_logger("router.worker")


class GroupService(Health, Service):
    """Crisis detection and the careful lane: a batch's offsets are committed only once its outputs are acknowledged.

    Each has its own producer, whose client and transactional ids end in `-ROLE`, so that its transactions
    commit its own group's offsets. A batch is handled and delivered under `busy`: a rebalance, or a stop,
    waits for the batch in hand.
    """

    def __init__(self, settings: Settings, group_id: str, role: str, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.group_id, self.role = settings, group_id, role
        exactly_once = settings.processing_guarantee == "exactly_once"
        self.isolation = "read_committed" if exactly_once else "read_uncommitted"
        self.heartbeat = time.monotonic()
        self.busy = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def start_clients(self, topic: str, listener: ConsumerRebalanceListener, **consumer_options) -> None:
        """Start the producer and the consumer, and subscribe to `topic`."""
        settings = self.settings
        own = settings.model_copy(update={"instance_id": f"{settings.instance_id}-{self.role}"})
        self.producer = Producer(lambda: _producer(own))
        self.consumer = AIOKafkaConsumer(**client_options(settings), group_id=self.group_id,
                                         client_id=f"{settings.app_id}-{own.instance_id}", enable_auto_commit=False,
                                         auto_offset_reset="earliest", isolation_level=self.isolation,
                                         **consumer_options)
        timeout = settings.delivery_timeout_seconds
        if settings.processing_guarantee == "exactly_once":
            self.delivery: AtLeastOnce | ExactlyOnce = ExactlyOnce(self.producer, self.group_id, timeout=timeout)
        else:
            self.delivery = AtLeastOnce(self.producer, self.consumer, timeout=timeout)
        await self.producer.get()
        await self.consumer.start()
        self.consumer.subscribe([topic], listener=listener)

    @property
    def assigned(self) -> list[int]:
        return [] if self._task is None else sorted(tp.partition for tp in self.consumer.assignment())

    async def on_stop(self) -> None:
        """Let the batch in hand finish, and `finish` what is pending, within the shutdown timeout; a batch cut
        short is not committed."""
        timeout, idle = self.settings.shutdown_timeout_seconds, True
        try:
            await asyncio.wait_for(self.busy.acquire(), timeout)
        except asyncio.TimeoutError:
            idle = False
            log.warning(f"{self.role}.batch_abandoned", reason="shutdown timeout; its offsets stay uncommitted")
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            if idle:
                await asyncio.wait_for(self.finish(), timeout)
            await self.delivery.flush()
        finally:
            await self.consumer.stop()
            await self.producer.stop()

    async def finish(self) -> None:
        """Deliver and commit what the batches handled so far left pending; nothing, unless a service holds some."""
