"""The ceiling: a plain aiokafka at-least-once passthrough that copies each input record, unchanged, to N topics.

No parsing and no classifying: consume a batch, produce every record to every output topic, await the
acknowledgements, commit. It reads the same INBOX_* settings as the worker (group, input topic, batch size and
wait), so the two are measured alike. With --batched it produces as the worker does, one producer batch per
partition (router.worker.delivery.send_all), instead of one `send` per record.

    python bench/passthrough.py --ready-file PATH [--batched] OUTPUT_TOPIC...
"""

import argparse
import asyncio
import signal
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener

from router.kafka_io import client_options
from router.settings import Settings
from router.worker.delivery import send_all


class _SignalReady(ConsumerRebalanceListener):
    """Creates the ready file once partitions are assigned, as the worker's /ready answers 200 then."""

    def __init__(self, path: Path):
        self._path = path

    async def on_partitions_revoked(self, revoked) -> None:  # noqa: ANN001 - aiokafka's signature
        pass

    async def on_partitions_assigned(self, assigned) -> None:  # noqa: ANN001 - aiokafka's signature
        if assigned:
            self._path.touch()


async def run(settings: Settings, outputs: list[str], ready_file: Path, batched: bool) -> None:
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=settings.app_id, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    try:
        consumer.subscribe([settings.input_topic], listener=_SignalReady(ready_file))
        await consumer.start()
        try:
            await _pass_through(consumer, producer, outputs, settings, batched)
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


async def _pass_through(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, outputs: list[str],
                        settings: Settings, batched: bool) -> None:
    wait_ms = int(settings.batch_wait_seconds * 1000)
    while True:
        batches = await consumer.getmany(timeout_ms=wait_ms, max_records=settings.batch_size)
        if not batches:
            continue
        if batched:
            await send_all(producer, [(topic, message.key, message.value)
                                      for messages in batches.values() for message in messages for topic in outputs])
        else:
            # Queue every send first, then await them all: the plain way to deliver a batch with aiokafka.
            acks = [await producer.send(topic, value=message.value, key=message.key)
                    for messages in batches.values() for message in messages for topic in outputs]
            await asyncio.gather(*acks)
        await consumer.commit()  # the positions just consumed: every output of the batch is acknowledged


async def _main(settings: Settings, outputs: list[str], ready_file: Path, batched: bool) -> None:
    task = asyncio.create_task(run(settings, outputs, ready_file, batched))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready-file", type=Path, required=True, help="created once partitions are assigned")
    parser.add_argument("--batched", action="store_true", help="one producer batch per partition, as the worker")
    parser.add_argument("outputs", nargs="+", help="the topics each record is copied to")
    args = parser.parse_args()
    asyncio.run(_main(Settings(), args.outputs, args.ready_file, args.batched))


if __name__ == "__main__":
    main()
