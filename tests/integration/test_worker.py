"""A real worker against the real broker: every record published comes out exactly once, where it should."""

import asyncio
import base64
import hashlib
import json
from collections import defaultdict

import pytest

from router.kafka_io import Collector, publish
from router.rules import load_config

pytestmark = pytest.mark.integration


def _canonical(id_: str, source: str, text: str, **fields) -> bytes:
    return json.dumps({"id": id_, "source": source, "text": text, "created_at": "2026-11-20T10:00:00Z",
                       **fields}).encode()


# Clear-cut mentions from each source, canonical and native, with the owner they must reach.
VALID = [
    (_canonical("it-tw-1", "twitter", "@AubergeBoreale my flight was cancelled and nobody answers the phone, "
                "worst customer service ever. I want a refund now", thread_id="th-1"), "customer_service"),
    (_canonical("it-fb-1", "facebook", "Bonjour, est-ce que vous embauchez? Je cherche un emploi de cuisinier "
                "et j'aimerais envoyer mon CV", account="AubergeBoreale.Restaurant"), "human_resources"),
    (_canonical("it-ta-1", "tripadvisor", "Filthy room and rude staff\nThe sheets were dirty, the shower was "
                "broken and the manager refused to refund us. Terrible stay.", rating=1), "customer_service"),
]
NATIVE = ["x_tweet.json", "facebook_comment_webhook.json", "tripadvisor_review.json", "linkedin_comment.json"]
MALFORMED = [
    (b'{"id": "it-bad-1", "text": ', "invalid JSON"),
    (b"\xc3\x28 not utf-8", "invalid UTF-8"),
    (_canonical("it-bad-3", "myspace", "unknown source"), "invalid mention: source"),
    (json.dumps({"id": "it-bad-4", "source": "twitter", "text": "no time"}).encode(), "invalid mention: created_at"),
    (b"{" + b" " * 70_000 + b"}", "record too large"),
]


async def test_each_record_lands_exactly_where_its_routing_says(worker_settings, start_worker, payload):
    start_worker(worker_settings)
    config = load_config(worker_settings.config_path)
    queues = config.topics()
    native = [payload(name) for name in NATIVE]
    records = [raw for raw, _ in VALID] + native + [raw for raw, _ in MALFORMED]
    watched = queues | {worker_settings.decisions_topic, worker_settings.dead_letter_topic}
    expected_outcomes = len(VALID) + len(native) + len(MALFORMED)

    async with Collector(worker_settings, watched) as collector:
        await publish(worker_settings, worker_settings.input_topic, ((None, raw) for raw in records))
        received = await collector.collect(expected_outcomes,
                                           {worker_settings.decisions_topic, worker_settings.dead_letter_topic},
                                           timeout=60)

    decisions = [json.loads(r.value) for r in received if r.topic == worker_settings.decisions_topic]
    dead = [json.loads(r.value) for r in received if r.topic == worker_settings.dead_letter_topic]
    ours = {d["mention_id"] for d in decisions}  # the queues are shared with whatever else uses the broker
    delivered = defaultdict(list)
    for record in received:
        document = json.loads(record.value) if record.topic in queues else {}
        if document.get("id") in ours:
            delivered[document["id"]].append(record.topic)
            assert record.key == (document.get("thread_id") or document["id"]).encode()

    assert len(decisions) == len(VALID) + len(native)
    assert len(dead) == len(MALFORMED)
    owners = {d["mention_id"]: d["routing"]["owner"] for d in decisions}
    for raw, owner in VALID:
        assert owners[json.loads(raw)["id"]] == owner
    for decision in decisions:
        routing = decision["routing"]
        assert set(routing) >= {"label", "confidence", "scores", "owner", "queues", "route", "config_hash",
                                "model_version", "routed_at"}
        assert routing["config_hash"] == config.hash
        assert routing["queues"], decision
        assert sorted(delivered[decision["mention_id"]]) == sorted(routing["queues"])
    assert set(delivered) == set(owners)

    by_hash = {d["original_sha256"]: d for d in dead}
    for raw, reason in MALFORMED:
        letter = by_hash[hashlib.sha256(raw).hexdigest()]
        assert raw.startswith(base64.b64decode(letter["original"])) and letter["original_bytes"] == len(raw)
        assert letter["reason"].startswith(reason)
        assert letter["topic"] == worker_settings.input_topic
        assert letter["partition"] >= 0 and letter["offset"] >= 0


async def test_worker_survives_a_burst_of_garbage_and_keeps_routing(worker_settings, start_worker, tmp_path,
                                                                    monkeypatch):
    # Unbuffered, as in the container: the routing processes and the loop share stdout, line by line.
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    worker_settings = worker_settings.model_copy(update={"routing_processes": 2, "batch_size": 20})
    process = start_worker(worker_settings)
    garbage = [bytes([i % 256]) * (i + 1) for i in range(200)]
    watched = {worker_settings.decisions_topic, worker_settings.dead_letter_topic}
    async with Collector(worker_settings, watched) as collector:
        await publish(worker_settings, worker_settings.input_topic, ((None, raw) for raw in garbage))
        await publish(worker_settings, worker_settings.input_topic, [(None, VALID[0][0])])
        received = await collector.collect(len(garbage) + 1, watched, timeout=60)
    assert sum(r.topic == worker_settings.dead_letter_topic for r in received) == len(garbage)
    assert sum(r.topic == worker_settings.decisions_topic for r in received) == 1
    await asyncio.sleep(0)
    assert process.poll() is None
    lines = (tmp_path / "worker-0.log").read_text().splitlines()
    assert sum('"mention.dead_lettered"' in line for line in lines) == len(garbage)
    assert [line for line in lines if not _is_json_object(line)] == [], "the worker's stdout is JSON lines only"


@pytest.mark.parametrize("processes", [0, 2])
async def test_a_threads_mentions_reach_each_queue_in_the_order_they_arrived(processes, worker_settings,
                                                                             start_worker):
    # Small batches, routed in the loop or in two processes: many batches are read and routed ahead, and
    # must still be delivered in turn.
    settings = worker_settings.model_copy(update={"batch_size": 50, "routing_processes": processes})
    start_worker(settings)
    texts = [json.loads(value)["text"] for value, _ in VALID]
    threads, per_thread = 40, 50
    # Thread ids of this run only: the department queues are shared with whatever else uses the broker.
    ours = [f"{settings.app_id}-th-{thread}" for thread in range(threads)]
    records = [(ours[thread].encode(), _canonical(f"it-{thread}-{seq}", "twitter", texts[(thread + seq) % 3],
                                                  thread_id=ours[thread]))
               for seq in range(per_thread) for thread in range(threads)]
    queues = load_config(settings.config_path).topics()
    async with Collector(settings, queues | {settings.decisions_topic}) as collector:
        await publish(settings, settings.input_topic, records)
        received = await collector.collect(len(records), {settings.decisions_topic}, timeout=120)
        received += await collector.collect(10**9, (), timeout=3)  # the queue copies still on their way
    arrivals: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for record in received:
        mention = json.loads(record.value) if record.topic in queues else {}
        if mention.get("thread_id") in ours:
            arrivals[record.topic, mention["thread_id"]].append((record.offset, int(mention["id"].rsplit("-", 1)[1])))
    assert sum(len(copies) for copies in arrivals.values()) >= len(records)
    assert len({thread for _, thread in arrivals}) == threads
    for (queue, thread), copies in arrivals.items():
        sequence = [seq for _, seq in sorted(copies)]
        assert sequence == sorted(sequence), f"{thread} reached {queue} out of order: {sequence}"


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
