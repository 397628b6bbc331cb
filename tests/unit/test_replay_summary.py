"""Replay through route_batch at event time, and the summary it counts."""

import json
from datetime import datetime, timezone

import pytest
from replay_doubles import ROUTING_YAML, KeywordClassifier

from router.pipeline import Record, Router, route_batch
from router.replay.engine import batches, replay
from router.replay.summary import Summary, confidence_bin
from router.rules import load_config


@pytest.fixture
def router(tmp_path) -> Router:
    (tmp_path / "routing.yaml").write_text(ROUTING_YAML)
    return Router(KeywordClassifier(), load_config(tmp_path / "routing.yaml"))


@pytest.fixture
def records(mention_bytes, payload) -> list[Record]:
    values = [
        mention_bytes(id="m-1", text="worst service, I want a refund", created_at="2026-12-01T08:00:00Z"),
        mention_bytes(id="m-2", text="are you hiring? where do I send my CV", created_at="2026-12-01T09:00:00+02:00"),
        mention_bytes(id="m-3", text="nice view", created_at="2026-12-02T10:00:00Z"),
        b'{"id": "truncated',
        mention_bytes(id="m-4", text="no date", created_at=None),
        payload("facebook_comment_webhook.json"),
        mention_bytes(id="m-5", text="food poisoning after brunch, boycott", created_at="2026-12-02T23:30:00-05:00"),
    ]
    return [Record(value, offset=index) for index, value in enumerate(values, start=1)]


def summarise(records, router, batch_size=1000) -> dict:
    summary = Summary()
    for outcome in replay(records, router, batch_size):
        summary.add(outcome)
    return summary.as_dict()


def test_summary_counts_every_outcome(records, router):
    s = summarise(records, router)
    assert (s["read"], s["records"], s["routed"], s["dead_lettered"]) == (7, 7, 5, 2)
    assert s["dead_letter_reasons"] == {"invalid JSON": 1, "invalid mention": 1}
    assert s["by_label"] == {"complaint": 1, "other": 1, "pr_crisis": 1, "recruitment": 2}
    assert s["by_owner"] == {"customer_service": 1, "human_resources": 2, "marketing": 1, "public_affairs": 1}
    assert s["by_queue"] == {"q.customer_service": 1, "q.hr": 2, "q.hub": 2, "q.legal": 1, "q.public_affairs": 1}
    assert s["by_route"] == {"root": 1, "root/complaint": 1, "root/crisis": 1, "root/recruitment": 2}
    assert s["low_confidence"] == 1 and s["low_confidence_by_label"] == {"other": 1}
    assert s["by_day"] == {"2025-11-20": 1, "2026-12-01": 2, "2026-12-02": 1, "2026-12-03": 1}  # UTC days
    assert sum(s["confidence"].values()) == 5 and len(s["confidence"]) == 10
    assert s["model_version"] == "keywords-1" and s["config_hash"].startswith("sha256:")


def test_batch_size_does_not_change_the_result(records, router):
    assert summarise(records, router, batch_size=1) == summarise(records, router, batch_size=1000)


def test_replay_routes_at_event_time(records, router):
    routed = [o for o in replay(records, router) if hasattr(o, "routing")]
    assert [o.routing.routed_at for o in routed] == [o.mention.created_at for o in routed]


def test_replay_decisions_are_the_workers_apart_from_routed_at(records, router):
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    worker = [o.routing.as_document() for o in route_batch(records, router, now) if hasattr(o, "routing")]
    offline = [o.routing.as_document() for o in replay(records, router, batch_size=2) if hasattr(o, "routing")]
    assert [{**r, "routed_at": None} for r in worker] == [{**r, "routed_at": None} for r in offline]
    assert {r["routed_at"] for r in worker} == {now.isoformat()}


def test_summary_is_the_same_every_time(records, router):
    assert json.dumps(summarise(records, router)) == json.dumps(summarise(list(records), router))


def test_batches_are_consecutive_and_bounded():
    assert [len(b) for b in batches(range(2500), 1000)] == [1000, 1000, 500]
    assert list(batches([], 10)) == []


def test_helpers():
    assert confidence_bin(0.0) == "0.0-0.1" and confidence_bin(0.55) == "0.5-0.6" and confidence_bin(1.0) == "0.9-1.0"
