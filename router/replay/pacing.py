"""Publishing an archive: record keys, and the original pace of its mentions sped up X times."""

from collections.abc import Iterable, Iterator
from datetime import datetime

from router.errors import InvalidMention
from router.mentions import Mention, decode_record
from router.pipeline import Record


def first_mention(value: bytes | None) -> Mention | None:
    """The record's first mention, or None when the worker will dead-letter it."""
    try:
        return decode_record(value)[0]
    except InvalidMention:
        return None


def keyed(records: Iterable[Record]) -> Iterator[tuple[bytes | None, bytes | None]]:
    """(key, value) pairs keyed by thread, as the worker keys its output, so one thread stays in order."""
    for record in records:
        mention = first_mention(record.value)
        yield (mention.partition_key.encode() if mention else None), record.value


class OriginalPace:
    """A `schedule` for `kafka_io.publish`: seconds after the start at which a record is due.

    The gap between a record's `created_at` and the first record's, divided by `speed`. A record
    older than one already sent, or without a readable time, is due at once: time never runs back.
    """

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.origin: datetime | None = None
        self.due = 0.0

    def __call__(self, value: bytes | None) -> float:
        mention = first_mention(value)
        if mention is not None:
            if self.origin is None:
                self.origin = mention.created_at
            self.due = max(self.due, (mention.created_at - self.origin).total_seconds() / self.speed)
        return self.due
