"""What the worker produces for an outcome always fits in one Kafka record."""

import json

import pytest

from router.classify.model import Classifier
from router.pipeline import Record, Routed, Router, route_batch
from router.rules import load_config
from router.settings import REPO_ROOT, Settings
from router.worker.routing import fitted_messages

SETTINGS = Settings(decisions_topic="decisions", dead_letter_topic="dlq", max_message_bytes=100_000)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Classifier.load(), load_config(REPO_ROOT / "config" / "router.yaml"))


def test_a_mention_that_fits_gives_its_queue_copies_and_decision(router, mention_bytes):
    [routed] = route_batch([Record(mention_bytes(id="ok"), None, "mentions", 0, 5)], router, None)

    messages = fitted_messages(routed, SETTINGS)

    assert isinstance(routed, Routed)
    assert [m.topic for m in messages] == [*routed.decision.queues, "decisions"]


def test_a_mention_whose_output_would_not_fit_is_dead_lettered_with_the_reason(router, mention_bytes):
    # Settings refuse a limit this low; it stands in for a native payload whose mention outgrows its record.
    small = Settings.model_construct(**{**SETTINGS.model_dump(), "max_message_bytes": 50_000})
    raw = mention_bytes(id="big", text="x" * 60_000)
    [routed] = route_batch([Record(raw, b"k", "mentions", 2, 9)], router, None)

    [letter] = fitted_messages(routed, small)

    document = json.loads(letter.value)
    assert letter.topic == "dlq" and letter.key == b"k"
    assert document["reason"].startswith("output too large: ") and document["reason"].endswith("limit 50000")
    assert (document["partition"], document["offset"], document["original_bytes"]) == (2, 9, len(raw))
