"""The careful lane beside the worker: together they decide what replay decides with the same cascade, lose nothing."""

import asyncio
import base64
import json
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from parity import comparable, with_careful_below, without_crisis

from router.classify.careful import for_config
from router.classify.model import Classifier
from router.conversations import Conversations
from router.errors import InvalidMention
from router.kafka_io import Collector, Received, publish
from router.mentions import decode_record
from router.pipeline import DeadLettered, Record, Router, decision_document
from router.replay.archive import read_archives
from router.replay.engine import replay
from router.replay.pacing import keyed
from router.rules import load_config
from router.settings import Settings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
ARCHIVES = [SAMPLES / name for name in ("mentions.jsonl", "twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl",
                                        "mixed.csv")]
CAREFUL_BELOW = 0.8


def archive(copies: int = 1) -> list[Record]:
    """The samples' mentions as canonical records of one mention each, without threads, and their bad lines.

    Without threads: a reply routed in the worker before its thread's first mention comes back from the careful
    lane is routed as the first (README, the careful lane), where replay keeps the archive's order.
    """
    records = []
    for copy in range(copies):
        for record in read_archives(ARCHIVES):
            try:
                mentions = decode_record(record.value)
            except InvalidMention:
                records.append(record if copy == 0 else None)  # a bad line once
                continue
            for mention in mentions:
                fields = mention.model_dump(mode="json", exclude_none=True, exclude={"thread_id"})
                records.append(Record(json.dumps({**fields, "id": f"{mention.id}-{copy}"}).encode()))
    return [record for record in records if record is not None]


def careful_settings(settings: Settings, tmp_path: Path, free_port) -> tuple[Settings, Settings]:
    """The worker's settings with a careful_below config, and the careful lane's (its own web port)."""
    text = without_crisis(settings.config_path.read_text())
    (tmp_path / "router.yaml").write_text(with_careful_below(text, CAREFUL_BELOW))
    worker = settings.model_copy(update={"config_path": tmp_path / "router.yaml"})
    return worker, worker.model_copy(update={"web_port": free_port(), "batch_size": 20})


def expected_of(records: list[Record], settings: Settings) -> tuple[dict[str, str], Counter]:
    config = load_config(settings.config_path)
    router = Router(for_config(Classifier.load(), config), config)
    offline = list(replay(records, router, conversations=Conversations()))
    decided = {o.mention.id: comparable(decision_document(o)) for o in offline if not isinstance(o, DeadLettered)}
    return decided, Counter(o.reason for o in offline if isinstance(o, DeadLettered))


def split(received: list[Received], settings: Settings) -> tuple[dict[str, list[str]], list[dict]]:
    decided: dict[str, list[str]] = defaultdict(list)
    for record in received:
        if record.topic == settings.decisions_topic:
            decision = json.loads(record.value)
            decided[decision["mention_id"]].append(comparable(decision))
    return decided, [json.loads(r.value) for r in received if r.topic == settings.dead_letter_topic]


def missing(received: list[Received], expected: dict[str, str], settings: Settings) -> set[str]:
    return set(expected) - {json.loads(r.value)["mention_id"] for r in received if r.topic == settings.decisions_topic}


async def test_the_worker_and_the_careful_lane_decide_what_replay_decides(worker_settings, start_worker, tmp_path,
                                                                         free_port):
    worker, lane = careful_settings(worker_settings, tmp_path, free_port)
    records = archive()
    expected, expected_dead = expected_of(records, worker)
    stages = Counter(json.loads(decision)["routing"]["stage"] for decision in expected.values())
    assert stages["careful"] >= 10 and stages["fast"] >= 50 and expected_dead

    start_worker(worker)
    start_worker(lane, "careful")
    watched = {worker.decisions_topic, worker.dead_letter_topic}
    async with Collector(worker, watched) as collector:
        await publish(worker, worker.input_topic, keyed(records))
        received = await collector.collect(len(expected) + sum(expected_dead.values()), watched, timeout=180)

    decided, dead = split(received, worker)
    assert {mention: decisions[0] for mention, decisions in decided.items()} == expected
    assert all(len(decisions) == 1 for decisions in decided.values())
    assert Counter(letter["reason"] for letter in dead) == expected_dead
    careful = [json.loads(d[0])["routing"] for d in decided.values() if '"stage": "careful"' in d[0]]
    assert careful and all("+" in routing["model_version"] for routing in careful)  # the cascade's version


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_a_careful_lane_killed_mid_run_loses_nothing_and_a_poison_record_is_dead_lettered(
        worker_settings, start_worker, tmp_path, free_port, guarantee):
    worker_settings = worker_settings.model_copy(update={"processing_guarantee": guarantee})
    worker, lane = careful_settings(worker_settings, tmp_path, free_port)
    records = archive(copies=6)
    expected, expected_dead = expected_of(records, worker)
    careful = sum('"stage": "careful"' in decision for decision in expected.values())
    poison = b'\xff{"id": "poison"}'

    start_worker(worker)
    first = start_worker(lane, "careful")
    watched = {worker.decisions_topic, worker.dead_letter_topic}
    # What a downstream consumer sees: under exactly_once, only what committed transactions wrote.
    isolation = "read_committed" if guarantee == "exactly_once" else "read_uncommitted"
    async with Collector(worker, watched, isolation_level=isolation) as collector:
        await publish(worker, worker.careful_topic, [(b"poison", poison)])
        await publish(worker, worker.input_topic, keyed(records))
        received = await collector.collect(len(expected) - careful // 2, watched, timeout=180)
        first.send_signal(signal.SIGKILL)  # about half the careful lane's records still to label
        await asyncio.to_thread(first.wait)
        assert missing(received, expected, worker)  # killed mid-run
        start_worker(lane, "careful")
        deadline = time.monotonic() + 180
        while (left := missing(received, expected, worker)) and time.monotonic() < deadline:
            # Duplicates count too: collect until every mention has its decision.
            received += await collector.collect(len(left), {worker.decisions_topic}, timeout=10)

    decided, dead = split(received, worker)
    assert set(decided) == set(expected)  # nothing lost
    assert all(set(decisions) == {expected[mention]} for mention, decisions in decided.items())
    duplicates = sum(len(decisions) - 1 for decisions in decided.values())
    # At least once: at most the batches labelled and not yet committed when it died; exactly once: none.
    assert duplicates <= (2 * lane.batch_size if guarantee == "at_least_once" else 0)
    [letter] = [letter for letter in dead if letter["topic"] == worker.careful_topic]
    assert letter["reason"].startswith("invalid UTF-8") and base64.b64decode(letter["original"]) == poison
    assert Counter(letter["reason"] for letter in dead if letter["topic"] == worker.input_topic) == expected_dead
