"""Replay predicts production: the live worker and an offline replay decide the same for the same mentions.

With the fixture's config, which has no careful stage (test_worker_careful.py has the cascade's).
"""

import json
from collections import Counter
from pathlib import Path

import pytest
from parity import comparable, without_crisis

from router.classify.model import Classifier
from router.conversations import Conversations
from router.kafka_io import Collector, publish
from router.pipeline import DeadLettered, Router, decision_document
from router.replay.archive import read_archives
from router.replay.engine import replay
from router.replay.pacing import keyed
from router.rules import load_config

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
ARCHIVES = [SAMPLES / name for name in ("mentions.jsonl", "twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl",
                                        "mixed.csv", "summer.jsonl.gz")]


def _comparable(decision: dict) -> tuple[str, str]:
    return decision["mention_id"], comparable(decision)


async def test_replay_and_worker_make_identical_decisions(worker_settings, start_worker, tmp_path):
    (tmp_path / "router.yaml").write_text(without_crisis(worker_settings.config_path.read_text()))
    worker_settings = worker_settings.model_copy(update={"config_path": tmp_path / "router.yaml"})
    router = Router(Classifier.load(worker_settings.model_dir), load_config(worker_settings.config_path))
    offline = list(replay(read_archives(ARCHIVES), router, conversations=Conversations()))
    expected = dict(_comparable(decision_document(o)) for o in offline if not isinstance(o, DeadLettered))
    expected_dead = Counter(o.reason for o in offline if isinstance(o, DeadLettered))
    assert len(expected) > 90 and sum(expected_dead.values()) == 7  # every sample, and their bad lines

    start_worker(worker_settings)
    watched = {worker_settings.decisions_topic, worker_settings.dead_letter_topic}
    async with Collector(worker_settings, watched) as collector:
        # The bytes `inbox-router replay --publish` sends: the same records replay routed above.
        await publish(worker_settings, worker_settings.input_topic, keyed(read_archives(ARCHIVES)))
        received = await collector.collect(len(offline), watched, timeout=90)

    decisions = [json.loads(r.value) for r in received if r.topic == worker_settings.decisions_topic]
    dead = Counter(json.loads(r.value)["reason"] for r in received if r.topic == worker_settings.dead_letter_topic)
    live = dict(_comparable(d) for d in decisions)
    assert len(decisions) == len(live) == len(expected)  # each mention decided once, ids unique in the samples
    assert live == expected
    assert dead == expected_dead
