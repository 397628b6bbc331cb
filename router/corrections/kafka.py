"""The export's edge: read the corrections, decisions and input topics to their end, write the labelled JSONL."""

from collections.abc import Collection
from pathlib import Path

import orjson
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from router.corrections.export import CorrectionsJoin
from router.errors import RouterError
from router.kafka_io import client_options, read_to_end
from router.settings import Settings


async def export(settings: Settings, out: Path) -> str:
    """Write the labelled mentions to `out`; returns what was written and what was left out, in a few lines."""
    join = CorrectionsJoin()
    topics = [settings.corrections_topic, settings.decisions_topic, settings.input_topic]
    partitions = await _partitions(settings, topics)
    # What an exactly-once worker wrote is read once its transaction committed, as a downstream consumer would.
    isolation = "read_committed" if settings.processing_guarantee == "exactly_once" else "read_uncommitted"
    for topic, add in zip(topics, (join.add_corrections, join.add_decisions, join.add_inputs)):
        async for chunk in read_to_end(settings, partitions[topic], isolation_level=isolation):
            add(value for _, value in chunk)
        if not join.corrections:
            break  # nothing was corrected: the decisions and the input need not be read
    examples = join.examples()
    temporary = out.with_name(out.name + ".partial")
    temporary.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in examples))
    temporary.replace(out)  # a reader never sees half a file
    return _report(join, len(examples), out, settings)


async def _partitions(settings: Settings, topics: Collection[str]) -> dict[str, list[TopicPartition]]:
    """Every partition of each topic; a topic that does not exist is an error, not an empty export."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        described = {item["topic"]: item for item in await admin.describe_topics(list(topics))}
    finally:
        await admin.close()
    found: dict[str, list[TopicPartition]] = {}
    for topic in topics:
        partitions = described.get(topic, {}).get("partitions") or []
        if not partitions:
            raise RouterError(f"topic {topic} does not exist on {settings.kafka_bootstrap_servers} "
                              "(a worker creates it when it starts)")
        found[topic] = [TopicPartition(topic, partition["partition"]) for partition in partitions]
    return found


def _report(join: CorrectionsJoin, written: int, out: Path, settings: Settings) -> str:
    missing = join.missing()
    lines = [f"wrote {written} labelled mentions from {len(join.corrections)} corrected mentions to {out}"]
    if join.malformed:
        lines.append(f"left out {join.malformed} malformed corrections (the worker dead-lettered them with the reason)")
    if missing["decision"]:
        lines.append(f"left out {len(missing['decision'])} corrected mentions with no decision in "
                     f"{settings.decisions_topic}: {', '.join(missing['decision'][:10])}")
    if missing["text"]:
        lines.append(f"left out {len(missing['text'])} corrected mentions no longer in {settings.input_topic}: "
                     f"{', '.join(missing['text'][:10])}")
    return "\n".join(lines)
