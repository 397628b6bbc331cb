"""The topics of one bench run: all named after the run, counted at the end, and deleted afterwards."""

from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from ruamel.yaml import YAML

from router.kafka_io import client_options, ensure_topics
from router.rules import load_config
from router.settings import Settings


def phase_settings(phase: str, config: Path, data_dir: Path, web_port: int) -> Settings:
    """Settings for one process under test: a group and topics of its own."""
    return Settings.of_run(phase, config_path=config, data_dir=data_dir, web_port=web_port, log_format="json")


def prefixed_config(source: Path, prefix: str, folder: Path) -> tuple[Path, set[str]]:
    """A copy of a routing config whose queues are `prefix.<queue>`, and those queues.

    The bench then leaves the shared broker's real department queues alone, and can delete what it wrote.
    """
    def prefix_queues(doc: dict) -> None:
        units = list((doc.get("business_units") or {}).values())  # dandelion: each unit's hub and its own spokes
        for section in filter(None, [doc.get("departments"), doc.get("topics"), *units,
                                     *(unit.get("departments") for unit in units)]):
            for name, topic in section.items():
                if isinstance(topic, str):  # a queue; a unit's accounts and departments are maps
                    section[name] = f"{prefix}.{topic}"

    path = changed_config(source, folder, prefix_queues)
    return path, load_config(path).topics()


def changed_config(source: Path, folder: Path, change: Callable[[dict], object]) -> Path:
    """A copy of a routing config in `folder`, its document changed in place by `change`."""
    yaml = YAML()
    doc = yaml.load(source)
    change(doc)
    path = folder / source.name
    yaml.dump(doc, path)
    return path


async def count_records(settings: Settings, topics: set[str]) -> int:
    """How many records the topics hold: the sum of their end offsets (they are new, so they start at 0)."""
    partitions = [TopicPartition(topic, number)
                  for topic, numbers in (await ensure_topics(settings, topics)).items() for number in numbers]
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
