"""The pure core: one batch of raw records in, outcomes and the messages to produce out."""

import base64
import hashlib
import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.classify.model import Classifier
from router.errors import DeadLetterKind
from router.mentions import decode_record
from router.pipeline import DEAD_LETTER_PREFIX_BYTES, DeadLettered, Record, Routed, Router, messages_for, route_batch
from router.rules import load_config
from router.settings import REPO_ROOT

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
TOPICS = {"decisions_topic": "routing.decisions", "dead_letter_topic": "mentions.dead-letter"}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Classifier.load(), load_config(REPO_ROOT / "config" / "router.yaml"))


def _records(*values: bytes) -> list[Record]:
    return [Record(value, None, "mentions", 0, offset) for offset, value in enumerate(values)]


def test_one_outcome_per_mention_in_input_order(router, mention_bytes, payload):
    webhook = json.loads(payload("facebook_comment_webhook.json"))
    change = webhook["entry"][0]["changes"][0]
    webhook["entry"][0]["changes"].append({**change, "value": {**change["value"], "comment_id": "c-2"}})
    records = _records(mention_bytes(id="a"), b"not json", json.dumps(webhook).encode(), mention_bytes(id="z"))

    outcomes = route_batch(records, router, NOW)

    assert [type(o) for o in outcomes] == [Routed, DeadLettered, Routed, Routed, Routed]
    assert [o.mention.id for o in outcomes if isinstance(o, Routed)] == [
        "a", "104251772139_987654321_112233", "c-2", "z"]
    assert outcomes[1].record.offset == 1


def test_routing_object_says_why(router, mention_bytes):
    [routed] = route_batch(_records(mention_bytes(text="I want a refund, my order never arrived")), router, NOW)
    routing = routed.routing.as_document()
    assert routing["label"] == routed.classification.label
    assert routing["scores"].keys() == set(router.classifier.labels)
    assert routing["confidence"] == routing["scores"][routing["label"]] == max(routing["scores"].values())
    assert routing["owner"] == routed.decision.owner
    assert routing["queues"] == list(routed.decision.queues)
    assert routing["route"][0] == "root"
    assert routing["config_hash"] == router.config.hash
    assert routing["model_version"] == router.classifier.version
    assert routing["routed_at"] == NOW.isoformat()
    assert routing["low_confidence"] is (routed.classification.confidence < router.threshold)
    assert routing["low_confidence_reason"] == ("below_threshold" if routing["low_confidence"] else None)
    assert routing["lang"] == "en"
    assert routing["stage"] == "fast"
    assert list(routing) == ["label", "confidence", "scores", "low_confidence", "low_confidence_reason", "lang",
                             "stage", "owner", "queues", "priority", "copies", "tags", "route", "due_by", "config_hash",
                             "model_version", "routed_at", "thread_owner", "claim_key", "claimed_by", "claimed_at",
                             "incident_id"]
    assert (routing["thread_owner"], routing["claim_key"], routing["claimed_by"]) == (False, "m-1", None)
    assert routing["incident_id"] is None  # no incident: the default config's detector is not given here
    assert routed.routing.confidence == routing["confidence"] and routed.routing.decision == routed.decision


def test_low_confidence_uses_the_config_threshold(router):
    assert router.config.confidence_threshold is not None
    assert router.threshold == router.config.confidence_threshold


def test_routed_mention_goes_to_each_queue_and_to_the_decisions(router, mention_bytes):
    [routed] = route_batch(_records(mention_bytes(thread_id="thread-7", campaign="x")), router, NOW)
    messages = messages_for(routed, **TOPICS)

    assert [m.topic for m in messages] == [*routed.decision.queues, "routing.decisions"]
    assert {m.key for m in messages} == {b"thread-7"}
    delivered = json.loads(messages[0].value)
    assert delivered["id"] == "m-1" and delivered["campaign"] == "x"
    assert delivered["routing"] == routed.routing.as_document()
    decision = json.loads(messages[-1].value)
    assert decision == {"mention_id": "m-1", "source": "twitter", "created_at": "2026-11-20T10:00:00+00:00",
                        "thread_id": "thread-7", "routing": routed.routing.as_document()}


def test_dead_letter_keeps_the_original_bytes_and_where_they_came_from(router):
    raw = b"\xff\x00 broken"
    [dead] = route_batch([Record(raw, b"key-1", "mentions", 3, 41)], router, NOW)
    [message] = messages_for(dead, **TOPICS)

    assert message.topic == "mentions.dead-letter" and message.key == b"key-1"
    letter = json.loads(message.value)
    assert base64.b64decode(letter["original"]) == raw
    assert letter == {"reason": dead.reason, "original": letter["original"], "topic": "mentions",
                      "partition": 3, "offset": 41, "original_bytes": len(raw),
                      "original_sha256": hashlib.sha256(raw).hexdigest(), "truncated": False}
    assert dead.reason.startswith("invalid UTF-8") and dead.kind is DeadLetterKind.INVALID_UTF8


def test_same_batch_same_decisions(router, mention_bytes):
    records = _records(*(mention_bytes(id=str(i), text=f"text number {i} about a refund") for i in range(20)))
    first = [o.routing for o in route_batch(records, router, NOW)]
    assert first == [o.routing for o in route_batch(records, router, NOW)]


def test_an_empty_batch_routes_nothing(router):
    assert route_batch([], router, NOW) == []


def test_a_batch_of_only_garbage_never_calls_for_a_decision(router):
    outcomes = route_batch(_records(b"", b"{", b"[]"), router, NOW)
    assert all(isinstance(o, DeadLettered) for o in outcomes)


_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
_RECORD = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda text, source, rating: json.dumps(
        {"id": "p", "source": source, "text": text, "created_at": "2026-11-20T10:00:00Z", "rating": rating}).encode(),
        _TEXT, st.sampled_from(["twitter", "facebook", "tripadvisor", "myspace"]), st.none() | st.integers(-3, 9)),
    st.builds(lambda value: json.dumps(value).encode(), st.recursive(
        st.none() | st.booleans() | st.integers() | _TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=10)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_RECORD, max_size=8))
def test_no_record_makes_the_pipeline_raise(router, values):
    outcomes = route_batch(_records(*values), router, NOW)
    assert len(outcomes) >= len(values)
    for outcome in outcomes:
        for message in messages_for(outcome, **TOPICS):
            json.loads(message.value)  # everything produced is valid JSON, whatever came in


def test_dead_letter_of_a_huge_record_keeps_a_bounded_prefix_its_size_and_hash(router):
    raw = b"x" * 3_000_000
    [dead] = route_batch([Record(raw, None, "mentions", 1, 7)], router, NOW)
    [message] = messages_for(dead, **TOPICS)

    letter = json.loads(message.value)
    assert len(message.value) < 100_000
    assert base64.b64decode(letter["original"]) == raw[:DEAD_LETTER_PREFIX_BYTES]
    assert letter["truncated"] is True and letter["original_bytes"] == len(raw)
    assert letter["original_sha256"] == hashlib.sha256(raw).hexdigest()
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("mentions", 1, 7)


class _RaisesOn:
    """A classifier that raises on one text, as a bug in routing would."""

    def __init__(self, classifier: Classifier, poison: str):
        self._classifier, self._poison = classifier, poison
        self.threshold, self.version = classifier.threshold, classifier.version

    def classify(self, texts, langs=None):
        if any(self._poison in text for text in texts):
            raise RuntimeError("boom")
        return self._classifier.classify(texts, langs)


def test_a_record_whose_routing_raises_is_dead_lettered_and_the_rest_routed(router, mention_bytes):
    poisoned = Router(_RaisesOn(router.classifier, "POISON"), router.config)
    records = _records(mention_bytes(id="a"), mention_bytes(id="p", text="POISON pill"), mention_bytes(id="z"))

    outcomes = route_batch(records, poisoned, NOW)

    assert [type(o) for o in outcomes] == [Routed, DeadLettered, Routed]
    assert outcomes[1].reason == "routing failed: RuntimeError: boom"
    assert outcomes[1].kind is DeadLetterKind.ROUTING_FAILED
    assert [o.routing for o in outcomes if isinstance(o, Routed)] == [
        o.routing for o in route_batch([records[0], records[2]], router, NOW)]


def test_a_record_whose_decoding_raises_unexpectedly_is_dead_lettered_alone(router, mention_bytes, monkeypatch):
    import router.pipeline as pipeline

    def decode(raw):
        if b"BUG" in raw:
            raise KeyError("bug")
        return decode_record(raw)

    monkeypatch.setattr(pipeline, "decode_record", decode)
    outcomes = route_batch(_records(mention_bytes(id="a"), mention_bytes(id="b", text="BUG")), router, NOW)

    assert [type(o) for o in outcomes] == [Routed, DeadLettered]
    assert outcomes[1].reason == "decoding failed: KeyError: 'bug'"
    assert outcomes[1].kind is DeadLetterKind.DECODING_FAILED
