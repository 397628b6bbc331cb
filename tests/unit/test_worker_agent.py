"""The faust agent without a broker: faust's test_context feeds it, and produced records are captured."""

import asyncio
import json

import faust
import pytest

from router.classify.model import Classifier
from router.rules import ConfigHolder
from router.settings import REPO_ROOT, Settings
from router.worker.app import create_app


@pytest.fixture
def produced(monkeypatch):
    """Every record the agent sends, as (topic, key, value), instead of reaching Kafka."""
    sent = []

    async def capture(topic, key=None, value=None, **_):
        sent.append((topic.get_topic_name(), key, value))

    monkeypatch.setattr(faust.Topic, "send", capture)
    return sent


@pytest.fixture
def agent():
    settings = Settings(web_port=16066, dead_letter_topic="dlq", decisions_topic="decisions")
    app = create_app(settings, Classifier.load(), ConfigHolder(REPO_ROOT / "config" / "router.yaml"))
    return app.agents["router.worker.app.route"]


async def test_agent_routes_valid_mentions_and_dead_letters_the_rest(agent, produced, mention_bytes):
    async with agent.test_context() as context:
        await context.put(mention_bytes(id="ok-1", thread_id="t-1"))
        await context.put(b"\x00garbage")
        await asyncio.sleep(0.3)  # the agent takes events in small time-boxed batches

    topics = [topic for topic, _, _ in produced]
    decision = next(json.loads(value) for topic, _, value in produced if topic == "decisions")
    assert decision["mention_id"] == "ok-1"
    assert sorted(topics) == sorted([*decision["routing"]["queues"], "decisions", "dlq"])
    assert all(key == b"t-1" for topic, key, _ in produced if topic != "dlq")
    letter = next(json.loads(value) for topic, _, value in produced if topic == "dlq")
    assert letter["reason"].startswith("invalid JSON")
