"""Canonical validation, native payload normalisation and every dead-letter reason."""

import json
from datetime import datetime, timezone

import pytest

from router.errors import InvalidMention
from router.mentions import MAX_RECORD_BYTES, decode_record


def test_canonical_mention_with_only_required_fields(mention_bytes):
    [mention] = decode_record(mention_bytes())
    assert mention.id == "m-1"
    assert mention.source == "twitter"
    assert mention.created_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    assert mention.author is None and mention.rating is None


def test_canonical_mention_keeps_unknown_fields(mention_bytes):
    [mention] = decode_record(mention_bytes(campaign="winter-2026", author={"id": "a", "karma": 7}))
    dumped = mention.model_dump(mode="json")
    assert dumped["campaign"] == "winter-2026"
    assert dumped["author"]["karma"] == 7


def test_partition_key_is_the_thread_when_there_is_one(mention_bytes):
    [alone] = decode_record(mention_bytes())
    [threaded] = decode_record(mention_bytes(thread_id="t-9"))
    assert alone.partition_key == "m-1"
    assert threaded.partition_key == "t-9"


def test_x_api_v2_tweet(payload):
    [mention] = decode_record(payload("x_tweet.json"))
    assert mention.source == "twitter"
    assert mention.id == "1861234567890123456"
    assert mention.account == "AirNordique"
    assert mention.thread_id == "1861234567890123456"
    assert mention.lang == "en"
    assert mention.author.handle == "julie_tremblay"
    assert mention.author.followers == 1834
    assert mention.author.verified is False
    assert mention.url == "https://x.com/julie_tremblay/status/1861234567890123456"
    assert mention.text.startswith("@AirNordique flight AN 312")


def test_facebook_comment_webhook(payload):
    [mention] = decode_record(payload("facebook_comment_webhook.json"))
    assert mention.source == "facebook"
    assert mention.id == "104251772139_987654321_112233"
    assert mention.account == "104251772139"
    assert mention.thread_id == "104251772139_987654321"
    assert mention.author.handle == "Marie-Ève Gagnon"
    assert mention.created_at == datetime.fromtimestamp(1763647390, tz=timezone.utc)
    assert "embauchez" in mention.text


def test_facebook_webhook_yields_one_mention_per_added_comment(payload):
    webhook = json.loads(payload("facebook_comment_webhook.json"))
    change = webhook["entry"][0]["changes"][0]
    second = {**change, "value": {**change["value"], "comment_id": "c-2", "message": "second"}}
    like = {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "p"}}
    webhook["entry"][0]["changes"] = [change, like, second]
    mentions = decode_record(json.dumps(webhook).encode())
    assert [m.id for m in mentions] == ["104251772139_987654321_112233", "c-2"]


def test_tripadvisor_review(payload):
    [mention] = decode_record(payload("tripadvisor_review.json"))
    assert mention.source == "tripadvisor"
    assert mention.id == "945812377"
    assert mention.rating == 1
    assert mention.account == "1837452"
    assert mention.thread_id is None and mention.partition_key == "945812377"  # a review is no conversation
    assert mention.text.startswith("Dirty room, rude front desk\nWe booked two nights.")
    assert mention.author.handle == "TravellerFromLyon"


LINKEDIN_POST = "urn:li:activity:7398120045617389568"
LINKEDIN_COMMENT = f"urn:li:comment:({LINKEDIN_POST},7398131877023555584)"
LINKEDIN_THREAD = f"urn:li:comment:({LINKEDIN_POST},7398124410988462080)"


def test_linkedin_comment(payload):
    [mention] = decode_record(payload("linkedin_comment.json"))
    assert mention.source == "linkedin"
    assert mention.id == LINKEDIN_COMMENT
    assert mention.text.startswith("Same question here: we are planning our sales kickoff")
    assert mention.created_at == datetime(2026, 11, 20, 15, 23, 12, 407000, tzinfo=timezone.utc)
    assert mention.author.id == "urn:li:person:8Xq2Lb7kTp"
    assert mention.account is None  # a LinkedIn comment does not name the organization whose post it answers
    assert mention.url == f"https://www.linkedin.com/feed/update/{LINKEDIN_POST}/"


def test_a_linkedin_reply_and_the_comment_it_answers_share_a_thread(payload):
    reply = json.loads(payload("linkedin_comment.json"))
    assert decode_record(json.dumps(reply).encode())[0].thread_id == LINKEDIN_THREAD
    opening = {key: value for key, value in reply.items() if key != "parentComment"}
    opening.update(commentUrn=LINKEDIN_THREAD, id="7398124410988462080")
    del opening["$URN"]
    [mention] = decode_record(json.dumps(opening).encode())
    assert mention.id == mention.thread_id == LINKEDIN_THREAD
    # Another member's comment on the same post opens another thread.
    other = {**opening, "commentUrn": f"urn:li:comment:({LINKEDIN_POST},7398199999999999999)"}
    assert decode_record(json.dumps(other).encode())[0].thread_id != LINKEDIN_THREAD


@pytest.mark.parametrize(("dropped", "expected"), [
    ((), LINKEDIN_COMMENT),
    (("commentUrn",), LINKEDIN_COMMENT),  # $URN, the same URN
    (("commentUrn", "$URN"), "7398131877023555584"),  # the bare id, unique to LinkedIn all the same
])
def test_a_linkedin_comment_is_known_by_its_urn_else_its_id(payload, dropped, expected):
    comment = {key: value for key, value in json.loads(payload("linkedin_comment.json")).items() if key not in dropped}
    assert decode_record(json.dumps(comment).encode())[0].id == expected


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"message": "a plain string"}, "invalid mention: text: Field required"),
        ({"message": {"text": 42}}, "invalid mention: text: Input should be a valid string"),
        ({"created": None}, "invalid mention: created_at: Field required"),
        ({"created": {"time": "2026-11-20T15:23:12Z"}}, "invalid mention: created_at: created.time must be epoch milliseconds"),
        ({"created": {"time": 1795188192.5}}, "invalid mention: created_at: created.time must be epoch milliseconds"),
        ({"created": {"time": True}}, "invalid mention: created_at: created.time must be epoch milliseconds"),
        ({"created": {"time": 10**18}}, "invalid mention: created_at: Unix time out of range"),
        ({"actor": ["urn:li:person:1"]}, "invalid mention: author.id: Input should be a valid string"),
        ({"commentUrn": {"urn": 1}}, "invalid mention: id: Input should be a valid string"),
        ({"parentComment": [LINKEDIN_THREAD]}, "invalid mention: thread_id: Input should be a valid string"),
    ],
)
def test_hostile_linkedin_comments_are_dead_lettered(payload, change, reason):
    comment = {**json.loads(payload("linkedin_comment.json")), **change}
    with pytest.raises(InvalidMention) as caught:
        decode_record(json.dumps(comment).encode())
    assert str(caught.value) == reason


def test_a_linkedin_comment_without_any_id_is_refused(payload):
    comment = {key: value for key, value in json.loads(payload("linkedin_comment.json")).items()
               if key not in ("commentUrn", "$URN", "id")}
    with pytest.raises(InvalidMention, match="^invalid mention: id: Field required"):
        decode_record(json.dumps(comment).encode())


@pytest.mark.parametrize("post", ["urn:li:activity:1/../../evil", "https://evil.example/", 7398120045617389568,
                                  "urn:li:person:123"])
def test_a_linkedin_link_is_built_only_from_a_post_urn(payload, post):
    comment = {**json.loads(payload("linkedin_comment.json")), "object": post}
    assert decode_record(json.dumps(comment).encode())[0].url is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"id": "1", "text": ', "invalid JSON: Expecting value (line 1, column 21)"),
        (b"\xff\xfe{}", "invalid UTF-8: undecodable byte at offset 0"),
        (b"[1, 2]", "invalid mention: expected a JSON object, got list"),
        (b'{"id": "1", "source": "twitter", "text": "x"}', "invalid mention: created_at: Field required"),
        (
            b'{"id": "1", "source": "twitter", "text": 42, "created_at": "2026-11-20T10:00:00Z"}',
            "invalid mention: text: Input should be a valid string",
        ),
        (
            b'{"id": "1", "source": "myspace", "text": "x", "created_at": "2026-11-20T10:00:00Z"}',
            "invalid mention: source: Input should be 'twitter', 'tripadvisor', 'facebook' or 'linkedin'",
        ),
        (
            b'{"id": "1", "source": "twitter", "text": "x", "created_at": "2026-11-20T10:00:00"}',
            "invalid mention: created_at: Input should have timezone info",
        ),
        (
            b'{"id": "1", "source": "tripadvisor", "text": "x", "created_at": "2026-11-20T10:00:00Z", "rating": 9}',
            "invalid mention: rating: Input should be less than or equal to 5",
        ),
        (
            b'{"id": "1", "source": "twitter", "text": "half \\ud83d pair", "created_at": "2026-11-20T10:00:00Z"}',
            "invalid mention: a string holds an unpaired UTF-16 surrogate escape",
        ),
        (b'{"object": "page", "entry": []}', "no mention in payload: a webhook without any comment"),
        (None, "empty record: no value"),
    ],
)
def test_dead_letter_reasons(raw, reason):
    with pytest.raises(InvalidMention) as caught:
        decode_record(raw)
    assert str(caught.value) == reason
    assert reason.startswith(f"{caught.value.kind}: ")  # the kind that metrics and summaries count it under


def test_oversized_record_is_refused_before_parsing(mention_bytes):
    raw = mention_bytes(text="x" * MAX_RECORD_BYTES)
    with pytest.raises(InvalidMention, match=rf"record too large: {len(raw)} bytes, limit 65536"):
        decode_record(raw)


def test_escaped_surrogate_pairs_are_fine(mention_bytes):
    [mention] = decode_record(b'{"id": "1", "source": "twitter", "text": "\\ud83d\\ude00", "created_at": "2026-11-20T10:00:00Z"}')
    assert mention.text == "\U0001F600"


def test_record_at_the_size_limit_is_accepted(mention_bytes):
    base = len(mention_bytes(text=""))
    assert len(decode_record(mention_bytes(text="x" * (MAX_RECORD_BYTES - base)))) == 1
