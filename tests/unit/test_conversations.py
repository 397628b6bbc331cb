"""The conversation state: owners kept once set, claims folded strictly, rebuilt and sharded from its changelog."""

import json
import zlib

import pytest
from replay_doubles import ROUTING_YAML, KeywordClassifier

from router.conversations import MAX_CLAIM_BYTES, MAX_CLAIM_KEY_BYTES, Conversation, Conversations, Entry
from router.pipeline import Record, Routed, Router, route_batch
from router.rules import load_config


def claim(mention_id: str = "m-2", by: str = "alice", at: str = "2026-12-01T10:00:00Z", **extra) -> bytes:
    return json.dumps({"mention_id": mention_id, "claimed_by": by, "at": at, **extra}).encode()


def compacted(entries: list[Entry]) -> dict[bytes, bytes]:
    """What a compacted topic keeps of a changelog: the last entry per key."""
    return {entry.key: entry.value for entry in entries}


def restored(entries: list[Entry]) -> Conversations:
    state = Conversations()
    for key, value in compacted(entries).items():
        assert state.restore(key, value) is None
    return state


# --- owners ------------------------------------------------------------------------------------

def test_a_thread_keeps_the_owner_it_got_first():
    state = Conversations()
    assert state.record("t-1", "m-1", "customer_service") == (
        Entry(b"t-1", b'{"owner":"customer_service","owner_mention":"m-1"}'),)
    assert state.record("t-1", "m-2", "sales") == ()  # no change, so no entry
    assert state.lookup("t-1") == Conversation(owner="customer_service", owner_mention="m-1")
    assert state.lookup("t-2") is None


def test_an_owner_set_after_a_claim_keeps_the_claim():
    state = Conversations()
    state.fold_claim(b"t-1", claim())
    [entry] = state.record("t-1", "m-1", "sales")
    held = state.lookup("t-1")
    assert held is not None and (held.owner, held.claim and held.claim.claimed_by) == ("sales", "alice")
    assert json.loads(entry.value)["claim"]["claimed_by"] == "alice"  # each entry holds the key's whole state


# --- claims ------------------------------------------------------------------------------------

def test_a_claim_is_folded_into_the_state_and_its_changelog():
    state = Conversations()
    state.record("t-1", "m-1", "sales")
    folded = state.fold_claim(b"t-1", claim())
    assert folded.problem is None
    held = state.lookup("t-1")
    assert held is not None and held.claim is not None
    assert (held.owner, held.claim.claimed_by, held.claim.mention_id) == ("sales", "alice", "m-2")
    assert compacted(list(folded.entries)) == compacted(list(state.entries()))


def test_a_later_claim_takes_over_and_an_older_one_changes_nothing():
    state = Conversations()
    state.fold_claim(b"t-1", claim(by="alice", at="2026-12-01T10:00:00Z"))
    assert state.fold_claim(b"t-1", claim(by="bob", at="2026-12-01T09:59:59Z")) == ((), None)
    assert state.fold_claim(b"t-1", claim(by="carol", at="2026-12-01T06:01:00-04:00")).entries  # 10:01 UTC
    held = state.lookup("t-1")
    assert held is not None and held.claim is not None and held.claim.claimed_by == "carol"


BAD_CLAIMS = {
    "no key": (None, claim()),
    "an empty key": (b"", claim()),
    "a key that is not UTF-8": (b"\xff\xfe", claim()),
    "a key too long": (b"k" * (MAX_CLAIM_KEY_BYTES + 1), claim()),
    "no value": (b"t-1", None),
    "a value too large": (b"t-1", claim(by="a" * 100) + b" " * MAX_CLAIM_BYTES),
    "truncated JSON": (b"t-1", claim()[:-3]),
    "not an object": (b"t-1", b'["m-2", "alice"]'),
    "a missing field": (b"t-1", b'{"mention_id": "m-2", "claimed_by": "alice"}'),
    "an unknown field": (b"t-1", claim(note="mine")),
    "a number for a name": (b"t-1", b'{"mention_id": "m-2", "claimed_by": 7, "at": "2026-12-01T10:00:00Z"}'),
    "Unix time": (b"t-1", b'{"mention_id": "m-2", "claimed_by": "alice", "at": 1796119200}'),
    "a time without zone": (b"t-1", claim(at="2026-12-01T10:00:00")),
    "not a time": (b"t-1", claim(at="tomorrow")),
    "a blank name": (b"t-1", claim(by="   ")),
    "a control character": (b"t-1", claim(by="alice\u0007")),
    "a name too long": (b"t-1", claim(by="a" * 201)),
    "an empty mention id": (b"t-1", claim(mention_id="")),
    "a lone surrogate": (b"t-1", b'{"mention_id": "m-2", "claimed_by": "\\ud800", "at": "2026-12-01T10:00:00Z"}'),
    "deep nesting": (b"t-1", b"[" * 2000),
    "NaN": (b"t-1", b'{"mention_id": "m-2", "claimed_by": "alice", "at": NaN}'),
}


@pytest.mark.parametrize(("key", "value"), BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_a_bad_claim_is_refused_with_a_reason_and_changes_nothing(key, value):
    state = Conversations()
    state.record("t-1", "m-1", "sales")
    before = list(state.entries())
    folded = state.fold_claim(key, value)
    assert folded.entries == ()
    assert folded.problem
    assert list(state.entries()) == before


def test_a_bad_claim_says_what_is_wrong():
    state = Conversations()
    assert state.fold_claim(b"t-1", claim(at="2026-12-01T10:00:00")).problem == (
        "at: Input should have timezone info")
    assert state.fold_claim(None, claim()).problem == (
        "no key: a claim is keyed by the claim_key of the record it claims")


# --- the changelog -----------------------------------------------------------------------------

def test_restore_applies_the_last_entry_per_key_and_tombstones_forget():
    state = Conversations()
    state.restore(b"t-1", b'{"owner":"sales","owner_mention":"m-1"}')
    state.restore(b"t-1", b'{"owner":"sales","owner_mention":"m-1","claim":{"mention_id":"m-3","claimed_by":"bo",'
                          b'"at":"2026-12-01T10:00:00Z"}}')
    held = state.lookup("t-1")
    assert held is not None and held.claim is not None and held.claim.claimed_by == "bo"
    assert state.restore(b"t-1", None) is None
    assert state.lookup("t-1") is None and len(state) == 0


@pytest.mark.parametrize("value", [b"{", b'{"owner": 3}', b'{"owner": "sales", "colour": "red"}', b"[]"])
def test_a_bad_changelog_entry_is_refused_and_the_state_kept(value):
    state = Conversations()
    state.record("t-1", "m-1", "sales")
    problem = state.restore(b"t-1", value)
    assert problem is not None and problem.startswith("changelog entry refused: ")
    assert state.lookup("t-1") == Conversation(owner="sales", owner_mention="m-1")
    assert state.restore(b"\xff", b"{}") == "changelog entry refused: the key is not UTF-8"


def thread_records() -> list[Record]:
    """Four threads whose mentions say different things, interleaved, and mentions without a thread."""
    texts = ["worst service, I want a refund", "what is the price for two nights", "are you hiring a cook",
             "hello there", "poisoning scandal, boycott them"]
    records = []
    for n in range(40):
        thread = f"t-{n % 4}" if n % 5 else None
        mention = {"id": f"m-{n}", "source": "facebook", "text": texts[(n * 3 + n // 4) % len(texts)],
                   "created_at": "2026-11-20T10:00:00Z", "thread_id": thread}
        records.append(Record(json.dumps(mention).encode()))
    return records


@pytest.fixture
def router(tmp_path) -> Router:
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING_YAML)
    return Router(KeywordClassifier(), load_config(path))


def routed_with(state: Conversations, records: list[Record], router: Router) -> tuple[list[Routed], list[Entry]]:
    """The outcomes of routing the records one by one against the state, and the changelog they wrote."""
    outcomes = [outcome for record in records for outcome in route_batch([record], router, None, state)]
    routed = [outcome for outcome in outcomes if isinstance(outcome, Routed)]
    return routed, [entry for outcome in routed for entry in outcome.changes]


def test_the_state_restored_from_its_changelog_is_the_state_routing_built(router):
    state = Conversations()
    routed, changelog = routed_with(state, thread_records()[:20], router)
    changelog += state.fold_claim(b"t-1", claim(mention_id="m-1")).entries
    more, later = routed_with(state, thread_records()[20:], router)
    changelog += later
    assert any(outcome.decision.thread_owner for outcome in routed + more)  # replies did keep their thread's owner
    copy = restored(changelog)
    assert len(copy) == len(state) == 4  # the four threads, and nothing for mentions without one
    assert compacted(list(copy.entries())) == compacted(list(state.entries()))
    assert all(copy.lookup(f"t-{n}") == state.lookup(f"t-{n}") for n in range(4))


def test_a_state_cut_into_shards_by_key_routes_like_the_whole(router):
    records = thread_records()
    whole = Conversations()
    _, changelog = routed_with(whole, records[:12], router)
    changelog += whole.fold_claim(b"t-2", claim(mention_id="m-2")).entries

    def shard(key: bytes) -> int:
        return zlib.crc32(key) % 3

    shards = [restored([entry for entry in changelog if shard(entry.key) == number]) for number in range(3)]
    assert sum(len(part) for part in shards) == len(whole)
    # The rest of the archive, each record routed by the shard its key falls in, as a worker per partition would.
    by_shard = [outcome for record in records[12:]
                for outcome in route_batch([record], router, None, shards[shard(_key(record))])]
    by_whole = [outcome for record in records[12:] for outcome in route_batch([record], router, None, whole)]
    assert [_document(o) for o in by_shard] == [_document(o) for o in by_whole]
    assert any(o.decision.thread_owner for o in by_whole if isinstance(o, Routed))
    assert any(o.routing.as_document()["claimed_by"] == "alice" for o in by_whole if isinstance(o, Routed))


def _key(record: Record) -> bytes:
    mention = json.loads(record.value or b"{}")
    return (mention.get("thread_id") or mention["id"]).encode()


def _document(outcome) -> dict:
    return outcome.routing.as_document()
