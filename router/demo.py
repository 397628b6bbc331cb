"""`make run`'s feeder: publish a sample archive to a running worker, then show where everything went."""

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path

from router.errors import InvalidMention
from router.kafka_io import Collector, publish
from router.mentions import decode_record
from router.settings import get_settings


def expected_outcomes(lines: list[bytes]) -> int:
    """How many decisions or dead letters the worker should produce for these records."""
    total = 0
    for line in lines:
        try:
            total += len(decode_record(line))
        except InvalidMention:
            total += 1
    return total


async def feed(archive: Path, timeout: float) -> Counter:
    settings = get_settings()
    lines = [line for line in archive.read_bytes().splitlines() if line.strip()]
    watched = {settings.decisions_topic, settings.dead_letter_topic}
    async with Collector(settings, watched) as collector:
        await publish(settings, settings.input_topic, ((None, line) for line in lines))
        received = await collector.collect(expected_outcomes(lines), watched, timeout)
    counts: Counter = Counter()
    for record in received:
        if record.topic == settings.dead_letter_topic:
            counts[settings.dead_letter_topic] += 1
        else:
            counts.update(json.loads(record.value)["routing"]["queues"])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args()
    counts = asyncio.run(feed(args.archive, args.timeout))
    width = max(map(len, counts), default=10)
    print("\nmentions per queue")
    for queue, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {queue:<{width}}  {count:>4}")


if __name__ == "__main__":
    main()
