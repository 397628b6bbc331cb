"""Bench records: single-mention records cycled from the shipped samples, each mention with an id of its own."""

import json
import sys
from dataclasses import dataclass

from bench_replay import variants

from router.errors import InvalidMention
from router.mentions import decode_record


@dataclass(frozen=True, slots=True)
class Sample:
    """One input record and the id of the mention it holds; None when it is malformed and ends as a dead letter."""

    mention_id: str | None
    value: bytes


def samples(count: int) -> list[Sample]:
    """`count` records, mixed sources and languages, the samples' malformed ones included.

    Records holding several mentions are left out, so that each record yields exactly one decision or one
    dead letter and the count to wait for is exact.
    """
    chosen: list[Sample] = []
    for n, value in enumerate(variants(sys.maxsize)):
        if len(chosen) == count:
            break
        value = _unique(value, n)
        try:
            mentions = decode_record(value)
        except InvalidMention:
            chosen.append(Sample(None, value))
            continue
        if len(mentions) == 1:
            chosen.append(Sample(mentions[0].id, value))
    return chosen


def _unique(value: bytes, n: int) -> bytes:
    """The native payloads repeat their ids each cycle; suffix them so that a decision names one record."""
    try:
        doc = json.loads(value)
    except ValueError:
        return value
    if not isinstance(doc, dict) or "source" in doc:  # canonical: `variants` already made its id unique
        return value
    for holder, field in _id_fields(doc):
        if holder.get(field) is not None:
            holder[field] = f"{holder[field]}-{n}"
    return json.dumps(doc, ensure_ascii=False).encode()


def _id_fields(doc: dict) -> list[tuple[dict, str]]:
    """Where each native payload keeps its mention id: X API v2, Facebook page webhook, TripAdvisor review."""
    if isinstance(doc.get("data"), dict):
        return [(doc["data"], "id")]
    if isinstance(doc.get("entry"), list):
        changes = [change for entry in doc["entry"] if isinstance(entry, dict)
                   for change in entry.get("changes", []) if isinstance(change, dict)]
        return [(change["value"], "comment_id") for change in changes if isinstance(change.get("value"), dict)]
    return [(doc, "id")]
