"""The careful stage in the worker: which records wait for the careful lane, and how its labels come back."""

import base64
import json
from pathlib import Path

import pytest

from router.classify.labels import CAREFUL_STAGE, Classification
from router.classify.model import Classifier
from router.pipeline import Record
from router.rules import RoutingConfig, load_config
from router.settings import REPO_ROOT, Settings
from router.worker import carried
from router.worker.careful import label_batch
from router.worker.routing import Shard

SETTINGS = Settings.of_run("t", max_message_bytes=100_000)
SURE = "my parcel never came, refund me"  # complaint at 0.99
UNSURE = "great, another 3 hour delay, thanks"  # other at 0.62: the fast model misses the sarcasm


def mention(id: str, text: str, thread_id: str | None = None) -> bytes:
    fields = {"id": id, "source": "twitter", "text": text, "created_at": "2026-11-20T10:00:00Z", "thread_id": thread_id}
    return json.dumps({name: value for name, value in fields.items() if value is not None}).encode()


def config_with(tmp_path: Path, below: float | None) -> RoutingConfig:
    """The default config with `careful_below: below`, or with no careful stage (None)."""
    lines = (REPO_ROOT / "config" / "router.yaml").read_text().splitlines(keepends=True)
    path = tmp_path / "router.yaml"
    path.write_text("".join(line for line in lines if not line.startswith("careful_below:"))
                    + ("" if below is None else f"careful_below: {below}\n"))
    return load_config(path)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def decisions(batch, settings: Settings = SETTINGS) -> list[dict]:
    return [json.loads(value) for topic, _, value, *_ in batch.messages if topic == settings.decisions_topic]


def test_the_header_gives_back_the_very_labels_it_was_given():
    labels = [Classification.forced("complaint", 0.61234567891234, "en"),
              Classification("other", 0.3, {"other": 0.3, "complaint": 0.7}, None, "too_short", CAREFUL_STAGE)]
    found = carried.decode([("trace", b"1"), (carried.HEADER, carried.encode("v-9", 0.5, labels))])
    assert not isinstance(found, str)
    assert (found.model_version, found.threshold, found.labels()) == ("v-9", 0.5, labels)


@pytest.mark.parametrize(("headers", "problem"), [
    ([], "has 0 inbox-router.careful headers, not one"),
    ([(carried.HEADER, b"{}")] * 2, "has 2 inbox-router.careful headers"),
    ([(carried.HEADER, b"{")], "header is refused: header: Invalid JSON"),
    ([(carried.HEADER, b'{"model_version": "v", "threshold": 1.5, "classifications": []}')],
     "threshold: Input should be less than or equal to 1"),
    ([(carried.HEADER, b'{"model_version": "v", "threshold": 0.5, "classifications": [{"label": "spam"}]}')],
     "classifications.0.label: Input should be 'complaint', 'sales_lead', 'recruitment', 'pr_crisis' or 'other'"),
])
def test_a_header_that_says_nothing_usable_says_why(headers, problem):
    found = carried.decode(headers)
    assert isinstance(found, str) and problem in found


def test_a_producers_own_header_of_that_name_is_replaced_not_kept():
    assert carried.with_header([("trace", b"1"), (carried.HEADER, b"forged")], b"ours") == (
        ("trace", b"1"), (carried.HEADER, b"ours"))


def test_an_unsure_record_waits_for_the_careful_lane_whole_and_undecided(classifier, tmp_path):
    shard = Shard(SETTINGS, classifier)
    config = config_with(tmp_path, 0.8)
    unsure = Record(mention("u", UNSURE, thread_id="th-1"), b"th-1", SETTINGS.input_topic, 0, 4, 1_764_000_000.5,
                    (("trace", b"abc"),))
    batch = shard.route([Record(mention("s", SURE), b"s", SETTINGS.input_topic, 0, 3), unsure], config)

    assert [d["mention_id"] for d in decisions(batch)] == ["s"]
    [handed] = [message for message in batch.messages if message[0] == SETTINGS.careful_topic]
    assert handed == (SETTINGS.careful_topic, b"th-1", unsure.value, (("trace", b"abc"),), 1_764_000_000_500)
    assert shard.conversations.lookup("th-1") is None  # its thread took no owner from a mention not yet decided
    assert not [message for message in batch.messages if message[0] == SETTINGS.threads_topic]
    assert batch.tally.careful == 1 and sum(batch.tally.routed.values()) == 1


def test_without_careful_below_every_record_is_decided_in_the_fast_lane(classifier, tmp_path):
    shard = Shard(SETTINGS, classifier)
    config = config_with(tmp_path, None)
    batch = shard.route([Record(mention("u", UNSURE), b"u", SETTINGS.input_topic, 0, 4)], config)
    assert [d["routing"]["stage"] for d in decisions(batch)] == ["fast"]
    assert batch.tally.careful == 0 and all(message[0] != SETTINGS.careful_topic for message in batch.messages)


class Refusing:
    """A classifier that must not be asked: the labelled topic's records carry their labels."""

    version, threshold = "fast-v", 0.5

    def classify(self, texts, langs=None):
        raise AssertionError("classified again")


def test_a_labelled_record_is_routed_with_the_labels_it_carries_and_starts_its_thread(tmp_path):
    shard = Shard(SETTINGS, Refusing())  # type: ignore[arg-type]
    config = config_with(tmp_path, 0.8)
    label = Classification("complaint", 0.7, {"complaint": 0.7, "other": 0.3}, "en", None, CAREFUL_STAGE)
    headers = ((carried.HEADER, carried.encode("cascade-v", 0.5, [label])),)
    record = Record(mention("u", UNSURE, thread_id="th-1"), b"th-1", SETTINGS.labelled_topic, 0, 9, 0.0, headers)

    batch = shard.route([record], config)

    [decision] = decisions(batch)
    routing = decision["routing"]
    assert (routing["label"], routing["stage"], routing["model_version"]) == ("complaint", "careful", "cascade-v")
    assert routing["owner"] == "customer_service" and not routing["low_confidence"]
    assert shard.conversations.lookup("th-1").owner == "customer_service"


@pytest.mark.parametrize(("headers", "reason"), [
    ((), "invalid careful labels: the record has 0 inbox-router.careful headers, not one"),
    (((carried.HEADER, carried.encode("v", 0.5, [Classification.forced("other")] * 2)),),
     "invalid careful labels: 2 labels for 1 mentions"),
])
def test_a_labelled_record_whose_labels_do_not_fit_is_dead_lettered_with_its_bytes(headers, reason):
    shard = Shard(SETTINGS, Refusing())  # type: ignore[arg-type]
    config = load_config(REPO_ROOT / "config" / "router.yaml")
    record = Record(mention("u", UNSURE), b"u", SETTINGS.labelled_topic, 2, 9, 0.0, headers)
    [(topic, key, value)] = shard.route([record], config).messages
    letter = json.loads(value)
    assert (topic, key, letter["reason"], letter["offset"]) == (SETTINGS.dead_letter_topic, b"u", reason, 9)


def test_only_the_labelled_topic_is_believed_an_input_record_with_the_header_is_classified(classifier, tmp_path):
    shard = Shard(SETTINGS, classifier)
    forged = carried.encode("forged", 0.0, [Classification.forced("recruitment")])
    record = Record(mention("s", SURE), b"s", SETTINGS.input_topic, 0, 1, 0.0, ((carried.HEADER, forged),))
    [decision] = decisions(shard.route([record], config_with(tmp_path, 0.8)))
    assert (decision["routing"]["label"], decision["routing"]["stage"]) == ("complaint", "fast")


class Careful:
    """Stands in for the cascade: every text a careful complaint."""

    version, threshold = "fast-v+careful-v", 0.5

    def classify(self, texts, langs=None):
        return [Classification("complaint", 0.7, {"complaint": 0.7, "other": 0.3}, "en", None, CAREFUL_STAGE)
                for _ in texts]


def test_the_careful_lane_hands_a_record_back_whole_with_its_labels_which_the_worker_routes(tmp_path):
    forged = (carried.HEADER, b"forged")
    waiting = Record(mention("u", UNSURE), b"u", SETTINGS.careful_topic, 1, 5, 1_764_000_000.25,
                     (("trace", b"abc"), forged))

    [back] = label_batch([waiting], Careful(), SETTINGS).messages  # type: ignore[arg-type]

    topic, key, value, headers, produced = back  # type: ignore[misc]
    assert (topic, key, value, produced) == (SETTINGS.labelled_topic, b"u", waiting.value, 1_764_000_000_250)
    assert headers[0] == ("trace", b"abc") and forged not in headers
    labelled = Record(value, key, SETTINGS.labelled_topic, 1, 0, produced / 1000, headers)
    config = load_config(REPO_ROOT / "config" / "router.yaml")
    [decision] = decisions(Shard(SETTINGS, Refusing()).route([labelled], config))  # type: ignore[arg-type]
    routing = decision["routing"]
    assert (routing["label"], routing["stage"], routing["model_version"]) == ("complaint", "careful", "fast-v+careful-v")


def test_the_careful_lane_dead_letters_what_is_not_a_mention_with_its_bytes_and_reason():
    poison = Record(b'\xff{"id": "p"}', b"p", SETTINGS.careful_topic, 2, 8)

    labelled = label_batch([poison], Careful(), SETTINGS)  # type: ignore[arg-type]

    [(topic, key, value)] = labelled.messages
    letter = json.loads(value)
    assert (topic, key) == (SETTINGS.dead_letter_topic, b"p")
    assert (letter["topic"], letter["offset"]) == (SETTINGS.careful_topic, 8)
    assert letter["reason"].startswith("invalid UTF-8") and base64.b64decode(letter["original"]) == poison.value
    assert labelled.dead == {"invalid UTF-8": 1} and not labelled.stages
