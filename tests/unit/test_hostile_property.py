"""Property: no bytes, no JSON value and no mutation of a valid mention makes route_batch raise or lose a record."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.classify.model import Classifier
from router.pipeline import DeadLettered, Record, Routed, Router, messages_for, route_batch
from router.rules import load_config
from router.settings import REPO_ROOT

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
TOPICS = {"decisions_topic": "routing.decisions", "dead_letter_topic": "mentions.dead-letter"}
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CANONICAL = {"id": "m-1", "source": "tripadvisor", "text": "dirty room, I want a refund", "created_at": "2026-11-20T10:00:00Z",
             "author": {"id": "a-1", "handle": "julie", "followers": 12, "verified": False}, "lang": "en",
             "account": "ChateauLaurentides", "business_unit": "hotel", "rating": 2, "thread_id": "t-1",
             "url": "https://example.com/r/1"}
VALID = [CANONICAL] + [json.loads((PAYLOADS / name).read_bytes())
                       for name in ("x_tweet.json", "facebook_comment_webhook.json", "tripadvisor_review.json",
                                    "linkedin_comment.json")]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Classifier.load(), load_config(REPO_ROOT / "config" / "router.yaml"))


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check(router: Router, values: list[bytes]) -> None:
    """Every record gets its mentions routed or one dead letter with a decoding reason; all output is strict JSON."""
    outcomes = route_batch([Record(value, None, "mentions", 0, offset) for offset, value in enumerate(values)],
                           router, NOW)
    per_record: dict[int, list] = {offset: [] for offset in range(len(values))}
    for outcome in outcomes:
        per_record[outcome.record.offset].append(outcome)
    for found in per_record.values():
        kinds = {type(outcome) for outcome in found}
        assert kinds == {Routed} or (kinds == {DeadLettered} and len(found) == 1), found
        for outcome in found:
            assert not getattr(outcome, "reason", "").startswith("routing failed"), outcome.reason
            for message in messages_for(outcome, **TOPICS):
                assert len(message.value) < 100_000
                json.loads(message.value, parse_constant=_refuse)


# Fragments that reach the decoder's corners far more often than uniform bytes do.
TOKENS = [b"{", b"}", b"[", b"]", b'"', b":", b",", b" ", b"\\", b"\\u", b"d83d", b"\\ud800", b"\\u0000", b"0", b"-",
          b"1e400", b"-1e400", b"9" * 40, b"NaN", b"Infinity", b"-Infinity", b"null", b"true", b"\x00", b"\xc0\xaf",
          b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xff\xfe", "\u202e\u200b".encode(), b'"id"', b'"source"',
          b'"twitter"', b'"text"', b'"created_at"', b'"2026-11-20T10:00:00Z"', b'"data"', b'"entry"', b'"changes"',
          b'"value"', b'"item"', b'"comment"', b'"location_id"', b'"published_date"', b'"author"', b'"rating"',
          b'"actor"', b'"object"', b'"message"', b'"created"', b'"time"']
# JSON that json.dumps will not write: literals Python reads but no strict reader does, and its parser's limits.
RAW_LITERALS = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"9" * 4301, b"-" + b"9" * 5000,
                b"[" * 300 + b"]" * 300, b"[" * 1200 + b"]" * 1200, b'{"a":' * 1000 + b"{}" + b"}" * 1000]
token_soup = st.lists(st.sampled_from(TOKENS + RAW_LITERALS), max_size=80).map(b"".join)


@PROPERTY
@given(values=st.lists(st.binary(max_size=3000) | token_soup, min_size=1, max_size=6))
def test_no_bytes_make_the_pipeline_raise(router, values):
    check(router, values)


TEXT = st.text(max_size=40) | st.sampled_from(["twitter", "facebook", "tripadvisor", "linkedin", "2026-11-20T10:00:00Z",
                                             "comment"])
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**4000)
           | st.floats() | TEXT)
KEYS = TEXT | st.sampled_from(sorted({key for payload in VALID for key in payload} | {"users", "includes", "from"}))
json_values = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                           max_leaves=40)


def placed(value, depth: int, key: str | None):
    """The value under `depth` arrays, alone or as one field of a valid mention."""
    for _ in range(depth):
        value = [value]
    return value if key is None else {**CANONICAL, key: value}


# Deep enough for pydantic's serialiser (255 levels); json.dumps itself stops near 1,000.
DEPTHS = st.integers(0, 80) | st.integers(200, 900)


@PROPERTY
@given(values=st.lists(st.builds(placed, json_values, DEPTHS, st.none() | KEYS), min_size=1, max_size=6),
       ascii_only=st.booleans())
def test_no_json_value_makes_the_pipeline_raise(router, values, ascii_only):
    # json.dumps writes NaN, Infinity and lone surrogates, as broken producers do.
    check(router, [json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass") for value in values])


def _paths(value, path=()):
    """Every path to a node of a JSON document, the root included."""
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


def _mutate(document, path, operation: str, replacement):
    """A copy of the document with the node at `path` replaced, deleted, or given a sibling key."""
    document = json.loads(json.dumps(document))
    if not path:
        return replacement if operation == "replace" else document
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if operation == "replace":
        parent[key] = replacement
    elif operation == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        parent[f"{key}_"] = replacement
    else:
        parent.insert(key, replacement)
    return document


RAW = "@@raw@@"  # stands for a raw literal until the document is written


@st.composite
def mutated_mentions(draw):
    document = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        replacement = draw(json_values | st.just(RAW))
        document = _mutate(document, path, draw(st.sampled_from(["replace", "delete", "add"])), replacement)
    raw = json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return raw.replace(f'"{RAW}"'.encode(), draw(st.sampled_from(RAW_LITERALS)))


@st.composite
def byte_mutations(draw):
    raw = bytearray(json.dumps(draw(st.sampled_from(VALID)), ensure_ascii=False).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        cut = draw(st.integers(0, 4))
        raw[at:at + cut] = draw(st.sampled_from(TOKENS) | st.binary(max_size=4))
    return bytes(raw)


@PROPERTY
@given(values=st.lists(mutated_mentions() | byte_mutations(), min_size=1, max_size=6))
def test_no_mutation_of_a_valid_mention_makes_the_pipeline_raise(router, values):
    check(router, values)


def test_the_mentions_mutated_are_valid_to_begin_with(router):
    outcomes = route_batch([Record(json.dumps(document).encode()) for document in VALID], router, NOW)
    assert [type(outcome) for outcome in outcomes] == [Routed] * len(VALID)
