"""`make run`'s feeder: publish a sample archive to a running worker, then show where everything went."""

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path

from router.errors import InvalidMention
from router.kafka_io import Collector, caught_up, publish, read_topic
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


async def feed(archive: Path, timeout: float, in_order: bool = False) -> tuple[Counter, list[dict]]:
    """Publish the archive; where its mentions went, and the decisions of those that took the careful lane.

    `in_order`: under one key, as live traffic arrives.
    """
    settings = get_settings()
    lines = [line for line in archive.read_bytes().splitlines() if line.strip()]
    watched = {settings.decisions_topic, settings.dead_letter_topic}
    key = archive.name.encode() if in_order else None
    async with Collector(settings, watched) as collector:
        await publish(settings, settings.input_topic, ((key, line) for line in lines))
        received = await collector.collect(expected_outcomes(lines), watched, timeout)
    counts: Counter = Counter()
    careful = []
    for record in received:
        if record.topic == settings.dead_letter_topic:
            counts[settings.dead_letter_topic] += 1
        else:
            decision = json.loads(record.value)
            counts.update(decision["routing"]["queues"])
            if decision["routing"]["stage"] == "careful":
                careful.append(decision)
    return counts, careful


async def incidents(timeout: float) -> list[dict]:
    """The incident events the worker wrote, once its detector has read every signal."""
    settings = get_settings()
    await caught_up(settings, f"{settings.app_id}.crisis", settings.signals_topic, timeout)
    return [json.loads(value or b"") for value in await read_topic(settings, settings.incidents_topic)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--in-order", action="store_true", help="publish under one key: one partition, in order")
    parser.add_argument("--incidents", action="store_true", help="then show the incident events")
    args = parser.parse_args()
    counts, careful = asyncio.run(feed(args.archive, args.timeout, args.in_order))
    width = max(map(len, counts), default=10)
    print(f"\n{args.archive.name}: mentions per queue")
    for queue, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {queue:<{width}}  {count:>4}")
    if careful:
        print(f"\n{len(careful)} mentions took the careful lane (routing.stage careful), e.g.:")
        for decision in careful[:3]:
            routing = decision["routing"]
            print(f"  {decision['mention_id']}: {routing['label']} at {routing['confidence']}, to {routing['owner']}")
    if args.incidents:
        events = asyncio.run(incidents(args.timeout))
        print(f"\nincidents ({get_settings().incidents_topic}){'' if events else ': none'}")
        for event in events:
            print(f"  {event['state']:<9} {event['incident_id']}  {event['scope']} ({event['trigger']}): count "
                  f"{event['count']} against a baseline of {event['baseline']}, window {event['window']['start']}"
                  f"{', resolved ' + event['resolved_at'] if 'resolved_at' in event else ''}")


if __name__ == "__main__":
    main()
