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


COMPLAINT_TEXT = ("@AubergeBoreale my flight was cancelled and nobody answers the phone, worst customer service "
                  "ever. I want a refund now")
COMPLAINT = _mention("it-c-1", COMPLAINT_TEXT)
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


async def test_threads_keep_their_owners_when_their_partitions_move_to_another_worker(
        worker_settings, start_worker, free_port, tmp_path):
    s = worker_settings
    first = s.model_copy(update={"instance_id": f"{s.app_id}-a"})
    second = s.model_copy(update={"instance_id": f"{s.app_id}-b", "web_port": free_port()})
    threads = [f"it-move-{n}".encode() for n in range(16)]  # spread over every partition

    def in_thread(thread: bytes, id_: str, text: str) -> tuple[bytes, bytes]:
        return thread, _mention(id_, text).replace(THREAD, thread)

    start_worker(first)
    async with Collector(s, {s.decisions_topic}) as collector:
        await publish(s, s.input_topic, [in_thread(t, f"{t.decode()}-c", COMPLAINT_TEXT) for t in threads])
        assert len(await collector.collect(len(threads), {s.decisions_topic}, timeout=60)) == len(threads)
    start_worker(second)  # ready once the group has given it half of the partitions
    async with Collector(s, {s.decisions_topic}) as collector:
        await publish(s, s.input_topic, [in_thread(t, f"{t.decode()}-r", REPLY) for t in threads])
        replies = _decisions(await collector.collect(len(threads), {s.decisions_topic}, timeout=60), s)

    assert len(replies) == len(threads)
    assert {(r["routing"]["owner"], r["routing"]["thread_owner"]) for r in replies} == {("customer_service", True)}
    # The second worker knew those threads only from the changelog it read when it was given their partitions.
    restored = [json.loads(line) for line in (tmp_path / "worker-1.log").read_text().splitlines()
                if '"conversations.restored"' in line]
    assert sum(entry["entries"] for entry in restored) > 0
