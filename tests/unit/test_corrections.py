"""Corrections: what `routing.corrections` accepts, and what the worker does with one that breaks the rules."""

import base64
import json

import pytest

from router.classify.model import Classifier
from router.corrections import parse_correction
from router.pipeline import Record
from router.rules import load_config
from router.settings import REPO_ROOT, Settings
from router.worker.routing import Shard

SETTINGS = Settings(decisions_topic="decisions", dead_letter_topic="dlq", claims_topic="claims",
                    corrections_topic="corrections")
GOOD = {"mention_id": "tw-1", "label": "complaint", "by": "alice@example.com", "at": "2026-11-28T14:03:00Z"}


def encoded(**changes) -> bytes:
    return json.dumps({key: value for key, value in {**GOOD, **changes}.items() if value is not None}).encode()


def test_a_correction_names_a_mention_a_label_who_and_when():
    correction = parse_correction(encoded())
    assert (correction.mention_id, correction.label, correction.by) == ("tw-1", "complaint", "alice@example.com")
    assert correction.at.isoformat() == "2026-11-28T14:03:00+00:00"


@pytest.mark.parametrize(("value", "reason"), [
    (encoded(label="spam"), "label: Value error, must be one of complaint, sales_lead, recruitment, pr_crisis, other"),
    (encoded(at="2026-11-28T14:03:00"), "at: Input should have timezone info"),
    (encoded(at="last tuesday"), "at: Input should be a valid datetime"),
    (encoded(by=" "), "by: Value error, must name someone, in printable characters"),
    (encoded(mention_id=None), "mention_id: Field required"),
    (encoded(extra=1), "extra: Extra inputs are not permitted"),
    (encoded(label=3), "label: Input should be a valid string"),
    (b"[1]", "value: Input should be an object"),
    (b"{", "value: Invalid JSON"),
    (None, "no value"),
    (encoded(by="x" * 200, mention_id="y" * 1000).replace(b"}", b"," + b" " * 3000 + b"}"), "bytes, limit 4096"),
])
def test_a_correction_that_breaks_the_rules_says_why(value, reason):
    with pytest.raises(ValueError) as error:
        parse_correction(value)
    assert reason in str(error.value)


@pytest.fixture(scope="module")
def shard() -> Shard:
    return Shard(SETTINGS, Classifier.load())


def test_the_worker_dead_letters_a_bad_correction_with_its_bytes_and_produces_nothing_for_a_good_one(shard):
    config = load_config(REPO_ROOT / "config" / "router.yaml")
    bad = encoded(label="spam")
    mention = json.dumps({"id": "m-1", "source": "twitter", "text": "my parcel never came, refund me",
                          "created_at": "2026-11-20T10:00:00Z"}).encode()
    records = [Record(encoded(), b"tw-1", "corrections", 0, 1), Record(bad, b"tw-2", "corrections", 1, 7),
               Record(mention, b"m-1", SETTINGS.input_topic, 0, 3)]

    batch = shard.route(records, config)

    [letter] = [json.loads(value) for topic, _, value in batch.messages if topic == "dlq"]
    assert letter["reason"].startswith("invalid correction: label: Value error, must be one of")
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("corrections", 1, 7)
    assert base64.b64decode(letter["original"]) == bad
    assert [topic for topic, _, _ in batch.messages].count("decisions") == 1  # the mention, routed as ever
    assert batch.tally.dead == {"invalid correction": 1}
