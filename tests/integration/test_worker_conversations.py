"""A thread's owner and its claim live in Kafka: a restarted worker reads them back and keeps the thread together."""

import json
import signal

import pytest

from router.kafka_io import Collector, publish

pytestmark = pytest.mark.integration

THREAD = b"it-thread-1"


def _mention(id_: str, text: str) -> bytes:
    return json.dumps({"id": id_, "source": "twitter", "text": text, "created_at": "2026-11-20T10:00:00Z",
                       "thread_id": THREAD.decode()}).encode()


COMPLAINT = _mention("it-c-1", "@AubergeBoreale my flight was cancelled and nobody answers the phone, worst customer "
                               "service ever. I want a refund now")
# Alone, this reply goes to sales: the test of stickiness is that it does not.
REPLY = "Do you offer a group rate for 40 rooms next month? Please send us a quote for our conference"


def _decisions(received, settings) -> list[dict]:
    return [json.loads(r.value) for r in received if r.topic == settings.decisions_topic]


async def test_a_restarted_worker_keeps_a_threads_owner_and_its_claim(worker_settings, start_worker):
    s = worker_settings
    watched = {s.decisions_topic, s.dead_letter_topic, s.threads_topic}
    # The control: the reply alone, in a thread of its own, goes to sales.
    alone = _mention("it-alone", REPLY).replace(THREAD, b"it-thread-2")
    worker = start_worker(s)
    async with Collector(s, watched) as collector:
        await publish(s, s.input_topic, [(THREAD, COMPLAINT), (b"it-thread-2", alone)])
        first = _decisions(await collector.collect(2, {s.decisions_topic}, timeout=60), s)
    by_id = {d["mention_id"]: d["routing"] for d in first}
    assert by_id["it-c-1"]["owner"] == "customer_service" and by_id["it-c-1"]["claim_key"] == THREAD.decode()
    assert by_id["it-alone"]["owner"] == "sales"

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    start_worker(s)  # a new process: all it knows of the thread, it reads back from the changelog
    claim = json.dumps({"mention_id": "it-c-1", "claimed_by": "alice@support", "at": "2026-11-20T10:05:00Z"})
    async with Collector(s, watched) as collector:
        await publish(s, s.claims_topic, [(THREAD, claim.encode()), (None, b'{"mention_id": "it-c-1"}')])
        # The claim is folded in once its changelog entry is written; the bad one is dead-lettered.
        received = await collector.collect(2, {s.threads_topic, s.dead_letter_topic}, timeout=60)
        await publish(s, s.input_topic, [(THREAD, _mention("it-r-1", REPLY))])
        received += await collector.collect(1, {s.decisions_topic}, timeout=60)

    reply = _decisions(received, s)[0]["routing"]
    assert reply["owner"] == "customer_service" and reply["thread_owner"] is True
    assert reply["claimed_by"] == "alice@support" and reply["claim_key"] == THREAD.decode()
    dead = [json.loads(r.value) for r in received if r.topic == s.dead_letter_topic]
    assert [d["reason"].split(":")[0] for d in dead] == ["invalid claim"] and dead[0]["topic"] == s.claims_topic
