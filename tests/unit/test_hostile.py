"""Hostile records: each gets its expected outcome, nothing raises, and what comes out stays small and bounded."""

import base64
import json
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hostile.corpus import HERE, Hostile, records  # tests/ is on sys.path through its conftest

from router.classify.model import Classifier
from router.mentions import MAX_RECORD_BYTES
from router.pipeline import DEAD_LETTER_PREFIX_BYTES, DeadLettered, Record, Routed, Router, messages_for, route_batch
from router.rules import load_config
from router.settings import REPO_ROOT

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
TOPICS = {"decisions_topic": "routing.decisions", "dead_letter_topic": "mentions.dead-letter"}
CORPUS = records()
MAX_MESSAGE_BYTES = 100_000
# The classifier holds n-gram arrays of about 150 bytes per byte of text while it classifies.
CLASSIFIER_BYTES_PER_TEXT_BYTE = 200


@pytest.fixture(scope="module")
def router() -> Router:
    router = Router(Classifier.load(), load_config(REPO_ROOT / "config" / "router.yaml"))
    route_batch([Record(b'{"id": "w", "source": "twitter", "text": "warm up", "created_at": "2026-11-20T10:00:00Z"}')],
                router, NOW)  # the first classification allocates lasting caches: keep them out of measurements
    return router


def strict_json(value: bytes) -> object:
    """Parse as JSON readers outside Python do: NaN and Infinity are errors."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(value, parse_constant=refuse)


def check_outcomes(hostile: Hostile, raw: bytes, outcomes: list) -> None:
    if hostile.routed:
        assert [type(o) for o in outcomes] == [Routed] * hostile.mentions, [getattr(o, "reason", o) for o in outcomes]
    else:
        assert [type(o) for o in outcomes] == [DeadLettered]
        assert outcomes[0].reason.startswith(hostile.expect), outcomes[0].reason
        assert outcomes[0].reason.startswith(f"{outcomes[0].kind}: "), outcomes[0].kind
    for outcome in outcomes:
        for message in messages_for(outcome, **TOPICS):
            assert len(message.value) < MAX_MESSAGE_BYTES
            document = strict_json(message.value)
            if isinstance(outcome, DeadLettered):
                assert base64.b64decode(document["original"]) == raw[:DEAD_LETTER_PREFIX_BYTES]
                assert document["truncated"] is (len(raw) > DEAD_LETTER_PREFIX_BYTES)


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda hostile: hostile.name)
def test_each_hostile_record_gets_its_expected_outcome(router, hostile):
    raw = hostile.value()
    outcomes = route_batch([Record(raw, None, "mentions", 0, 0)], router, NOW)
    check_outcomes(hostile, raw, outcomes)


def test_the_whole_corpus_in_one_batch_gives_each_record_its_outcome_in_order(router):
    values = [hostile.value() for hostile in CORPUS]
    outcomes = route_batch([Record(raw, None, "mentions", 0, offset) for offset, raw in enumerate(values)], router, NOW)

    by_offset: dict[int, list] = {}
    for outcome in outcomes:
        by_offset.setdefault(outcome.record.offset, []).append(outcome)
    assert [outcome.record.offset for outcome in outcomes] == sorted(outcome.record.offset for outcome in outcomes)
    for offset, (hostile, raw) in enumerate(zip(CORPUS, values)):
        check_outcomes(hostile, raw, by_offset[offset])


def test_a_record_without_a_value_is_dead_lettered(router):
    [dead] = route_batch([Record(None, b"key", "mentions", 0, 0)], router, NOW)
    assert dead.reason == "empty record: no value"
    assert strict_json(messages_for(dead, **TOPICS)[0].value)["original"] is None


def test_the_manifest_lists_every_file_once():
    listed = [hostile.file for hostile in CORPUS if hostile.file]
    names = [hostile.name for hostile in CORPUS]
    assert len(set(names)) == len(names)
    own = {"README.md", "manifest.json", "corpus.py", ".gitattributes"}
    assert sorted(listed) == sorted(path.name for path in HERE.iterdir() if path.is_file() and path.name not in own)


def test_the_corpus_covers_every_family():
    families = {"nesting-", "utf8-", "utf16", "bom-", "control-", "bidi-", "zero-width-", "confusable-", "numbers-",
                "duplicate-", "top-level-", "size-", "types-canonical-", "types-x-", "types-facebook-",
                "types-tripadvisor-", "types-linkedin-", "facebook-webhook-100000-comments"}
    assert all(any(hostile.name.startswith(family) for hostile in CORPUS) for family in families)
    assert any(not hostile.routed and hostile.size() > 2_000_000 for hostile in CORPUS)


def _peak_bytes(router: Router, raw: bytes) -> int:
    """Peak memory allocated while routing one record and writing its messages."""
    tracemalloc.start()
    try:
        for outcome in route_batch([Record(raw, None, "mentions", 0, 0)], router, NOW):
            messages_for(outcome, **TOPICS)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BIGGEST = sorted(CORPUS, key=Hostile.size)[-3:]


@pytest.mark.parametrize("hostile", BIGGEST, ids=lambda hostile: hostile.name)
def test_refusing_the_biggest_records_takes_memory_independent_of_their_size(router, hostile):
    raw = hostile.value()
    assert len(raw) > MAX_RECORD_BYTES
    # The dead letter holds a 64 KiB prefix, in base64 and in JSON: a few times that, never a copy of the record.
    assert _peak_bytes(router, raw) < 8 * DEAD_LETTER_PREFIX_BYTES < len(raw)


BIGGEST_DECODED = sorted((hostile for hostile in CORPUS if hostile.routed), key=Hostile.size)[-3:]


@pytest.mark.parametrize("hostile", BIGGEST_DECODED, ids=lambda hostile: hostile.name)
def test_routing_the_biggest_decoded_records_takes_memory_proportional_to_their_size(router, hostile):
    raw = hostile.value()
    assert _peak_bytes(router, raw) < CLASSIFIER_BYTES_PER_TEXT_BYTE * len(raw)


def test_a_batch_of_the_largest_mentions_takes_memory_independent_of_the_batch_size(router):
    [largest] = [hostile for hostile in CORPUS if hostile.name == "size-text-at-limit"]
    raw = largest.value()
    batch = [Record(raw, None, "mentions", 0, offset) for offset in range(40)]
    tracemalloc.start()
    try:
        route_batch(batch, router, NOW)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * _peak_bytes(router, raw)


def test_generated_parts_build_the_documented_sizes():
    [at_limit] = [hostile for hostile in CORPUS if hostile.name == "size-text-at-limit"]
    [over] = [hostile for hostile in CORPUS if hostile.name == "size-one-byte-over-limit"]
    assert len(at_limit.value()) == MAX_RECORD_BYTES and len(over.value()) == MAX_RECORD_BYTES + 1
    assert Path(HERE / "manifest.json").stat().st_size < 100_000  # the corpus stays small in git
