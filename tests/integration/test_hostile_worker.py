"""A real worker fed the whole hostile corpus: one outcome per record, still routing afterwards, memory bounded."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from hostile.corpus import records  # tests/ is on sys.path through its conftest

from router.kafka_io import Collector, publish
from router.mentions import decode_record

pytestmark = pytest.mark.integration

# The broker refuses records over its message.max.bytes (1 MiB by default, batch headers included).
BROKER_LIMIT_BYTES = 1_000_000
MAX_PEAK_RSS_KIB = 400 * 1024
AFTER = json.dumps({"id": "after-the-corpus", "source": "twitter", "created_at": "2026-11-20T10:00:00Z",
                    "text": "my flight was cancelled and nobody answers, I want a refund"}).encode()


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory, as the kernel counts it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for process {pid}")


async def test_worker_gives_each_hostile_record_one_outcome_and_keeps_routing(worker_settings, start_worker):
    process = start_worker(worker_settings)
    corpus = [(hostile, hostile.value()) for hostile in records() if hostile.size() < BROKER_LIMIT_BYTES]
    dead = {hashlib.sha256(raw).hexdigest(): hostile for hostile, raw in corpus if not hostile.routed}
    mention_ids = Counter(mention.id for hostile, raw in corpus if hostile.routed for mention in decode_record(raw))
    mention_ids["after-the-corpus"] += 1
    watched = {worker_settings.decisions_topic, worker_settings.dead_letter_topic}

    async with Collector(worker_settings, watched) as collector:
        # A record needs a key or a value: this one has only a key.
        values = [(None, raw) for _, raw in corpus] + [(b"no-value", None)]
        await publish(worker_settings, worker_settings.input_topic, values)
        await publish(worker_settings, worker_settings.input_topic, [(None, AFTER)])
        received = await collector.collect(len(dead) + 1 + mention_ids.total(), watched, timeout=180)

    decisions = [json.loads(r.value) for r in received if r.topic == worker_settings.decisions_topic]
    letters = [json.loads(r.value) for r in received if r.topic == worker_settings.dead_letter_topic]
    assert Counter(decision["mention_id"] for decision in decisions) == mention_ids
    assert all(not letter["reason"].startswith("routing failed") for letter in letters)
    [no_value] = [letter for letter in letters if letter["original"] is None]
    assert no_value["reason"] == "empty record: no value"
    by_hash = {letter["original_sha256"]: letter for letter in letters if letter["original"] is not None}
    assert len(by_hash) == len(letters) - 1 == len(dead)
    for digest, hostile in dead.items():
        assert by_hash[digest]["reason"].startswith(hostile.expect), (hostile.name, by_hash[digest]["reason"])
    assert process.poll() is None, "the worker died"
    assert peak_rss_kib(process.pid) < MAX_PEAK_RSS_KIB
