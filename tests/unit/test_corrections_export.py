"""The export's join: the latest correction per mention, its decision and its text, in the training format."""

import json

import orjson

from router.classify.training.corpus import read_labelled
from router.corrections.export import CorrectionsJoin


def correction(mention_id: str, label: str, at: str, by: str = "alice@example.com") -> bytes:
    return json.dumps({"mention_id": mention_id, "label": label, "by": by, "at": at}).encode()


def decision(mention_id: str, label: str, confidence: float, lang: str | None = "en") -> bytes:
    return json.dumps({"mention_id": mention_id, "source": "twitter", "created_at": "2026-11-20T10:00:00+00:00",
                       "thread_id": None, "routing": {"label": label, "confidence": confidence, "lang": lang,
                                                       "model_version": "m-1", "owner": "marketing"}}).encode()


def mention(mention_id: str, text: str, lang: str | None = None) -> bytes:
    fields = {"id": mention_id, "source": "twitter", "text": text, "created_at": "2026-11-20T10:00:00Z", "lang": lang}
    return json.dumps({key: value for key, value in fields.items() if value is not None}).encode()


def joined(corrections, decisions, inputs) -> CorrectionsJoin:
    join = CorrectionsJoin()
    join.add_corrections(corrections)
    join.add_decisions(decisions)
    join.add_inputs(inputs)
    return join


def test_a_correction_becomes_a_labelled_mention_with_who_when_and_what_the_model_said():
    join = joined([correction("tw-1", "complaint", "2026-11-21T09:00:00+01:00")],
                  [decision("tw-1", "other", 0.57)],
                  [mention("tw-1", "great, another 3 hour delay, thanks @airline")])

    assert join.examples() == [{
        "mention_id": "tw-1", "text": "great, another 3 hour delay, thanks @airline", "label": "complaint",
        "lang": "en", "provenance": "correction", "source": "twitter", "created_at": "2026-11-20T10:00:00+00:00",
        "by": "alice@example.com", "at": "2026-11-21T09:00:00+01:00",
        "predicted_label": "other", "confidence": 0.57, "model_version": "m-1",
    }]


def test_the_latest_correction_of_a_mention_wins_whatever_the_order_read():
    join = joined([correction("tw-1", "pr_crisis", "2026-11-21T10:00:00Z", by="bob"),
                   correction("tw-1", "complaint", "2026-11-21T09:00:00Z"),
                   correction("tw-1", "sales_lead", "2026-11-21T10:30:00+02:00")],  # 08:30Z: older still
                  [decision("tw-1", "other", 0.6)], [mention("tw-1", "text")])

    [line] = join.examples()
    assert (line["label"], line["by"]) == ("pr_crisis", "bob")


def test_mentions_come_out_oldest_correction_first_native_payloads_included(payload):
    comment = "104251772139_987654321_112233"  # the comment of the Facebook webhook example
    corrections = [correction(comment, "recruitment", "2026-11-22T00:00:00Z"),
                   correction("tw-1", "complaint", "2026-11-21T00:00:00Z")]
    join = joined(corrections, [decision("tw-1", "other", 0.5), decision(comment, "other", 0.5, lang="fr")],
                  [mention("tw-2", "not corrected"), mention("tw-1", "late again"),
                   payload("facebook_comment_webhook.json")])

    examples = join.examples()
    assert [line["mention_id"] for line in examples] == ["tw-1", comment]
    assert examples[1]["text"].startswith("Est-ce que vous embauchez") and examples[1]["source"] == "facebook"
    assert set(join.mentions) == {"tw-1", comment}  # an uncorrected mention is not kept


def test_what_cannot_be_joined_is_left_out_and_said():
    join = joined([correction("tw-1", "complaint", "2026-11-21T00:00:00Z"),
                   correction("tw-2", "complaint", "2026-11-21T00:00:00Z"),
                   correction("tw-3", "complaint", "2026-11-21T00:00:00Z"),
                   b'{"mention_id": "tw-4", "label": "spam"}', None],
                  [decision("tw-1", "other", 0.5), decision("tw-2", "other", 0.5), b"not json", b"[]"],
                  [mention("tw-1", "late"), b"{broken", None])

    assert [line["mention_id"] for line in join.examples()] == ["tw-1"]
    assert join.malformed == 2
    assert join.missing() == {"decision": ["tw-3"], "text": ["tw-2"]}


def test_a_mention_routed_twice_keeps_the_decision_read_last_and_the_platform_language_fills_a_gap():
    join = joined([correction("tw-1", "complaint", "2026-11-21T00:00:00Z")],
                  [decision("tw-1", "other", 0.9), decision("tw-1", "sales_lead", 0.7, lang=None)],
                  [mention("tw-1", "en retard encore", lang="fr")])

    [line] = join.examples()
    assert (line["predicted_label"], line["confidence"], line["lang"]) == ("sales_lead", 0.7, "fr")


def test_the_export_is_training_data(tmp_path):
    join = joined([correction("tw-1", "complaint", "2026-11-21T00:00:00Z")],
                  [decision("tw-1", "other", 0.9)], [mention("tw-1", "late again", lang="en")])
    path = tmp_path / "corrections.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in join.examples()))

    data = read_labelled([path])

    assert (data.texts, data.labels, data.langs) == (["late again"], ["complaint"], ["en"])
