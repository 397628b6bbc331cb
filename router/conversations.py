"""What spans a conversation's mentions: the owner its thread keeps and who claimed it; pure, rebuilt from a changelog.

Each claim key (a thread's id, or a mention's own id when it has no thread) holds one `Conversation`.
Every change returns the key's changelog entry, its whole state as JSON, so that a compacted topic
(last entry per key wins) rebuilds it with `restore`. No entry names another key: the state can be
split by the key's hash, as the input topic is, and each part rebuilt alone. A thread's owner, once
set, never changes, so a stale copy of the state can only lack an owner, never hold a wrong one.
"""

import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from router.mentions.decode import describe_errors
from router.toolrecords import Someone, parse_tool_record

# A claim comes from an inbox tool: bounded, so that no tool can grow the state by writing large records.
MAX_CLAIM_KEY_BYTES = 1024
MAX_CLAIM_BYTES = 4096
_ID = Field(min_length=1, max_length=1000)


class Claim(BaseModel):
    """A record of `routing.claims`: someone took the conversation in hand, keyed by its claim key."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mention_id: str = _ID
    claimed_by: Someone
    at: AwareDatetime


# A slotted dataclass, not a model: a replay or a worker may hold millions, at a quarter of a model's size.
@dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid", strict=True))
class Conversation:
    """What one claim key holds; also the value of its changelog entry."""

    owner: str | None = None  # the department the thread's first routed mention got
    owner_mention: str | None = None  # that mention: routed again, it is routed as the first, not as a reply
    claim: Claim | None = None  # the latest claim


_STORED = TypeAdapter(Conversation)


class Entry(NamedTuple):
    """One changelog record: the claim key, and the key's whole state as JSON."""

    key: bytes
    value: bytes


class Folded(NamedTuple):
    """What folding a claims record gave: the changelog entries to write, or why the claim was refused."""

    entries: tuple[Entry, ...]
    problem: str | None = None


class Conversations:
    """Every conversation this process knows, by claim key; no I/O, no clock."""

    def __init__(self) -> None:
        self._by_key: dict[str, Conversation] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def lookup(self, key: str) -> Conversation | None:
        return self._by_key.get(key)

    def record(self, key: str, mention_id: str | None, owner: str) -> tuple[Entry, ...]:
        """The thread `key` gets `owner` from `mention_id`, unless it has an owner already (then no entry)."""
        held = self._by_key.get(key)
        if held is not None and held.owner is not None:
            return ()
        claim = held.claim if held is not None else None
        return self._set(key, Conversation(owner=owner, owner_mention=mention_id, claim=claim))

    def fold_claim(self, key: bytes | None, value: bytes | None) -> Folded:
        """Apply a `routing.claims` record; a later claim (by `at`) takes over, an older one changes nothing."""
        try:
            name, claim = _claim_key(key), _parse_claim(value)
        except ValueError as error:
            return Folded((), str(error))
        held = self._by_key.get(name) or Conversation()
        if held.claim is not None and held.claim.at > claim.at:
            return Folded(())
        return Folded(self._set(name, replace(held, claim=claim)))

    def restore(self, key: bytes, value: bytes | None) -> str | None:
        """Apply a changelog entry (None: a tombstone, the key is forgotten); returns why an entry was refused."""
        try:
            name = key.decode("utf-8")
            if value is None:
                self._by_key.pop(name, None)
            else:
                stored = _STORED.validate_json(value)
                # Departments are few: one string each, not one per thread.
                self._by_key[name] = replace(stored, owner=sys.intern(stored.owner)) if stored.owner else stored
        except UnicodeDecodeError:
            return "changelog entry refused: the key is not UTF-8"
        except ValidationError as error:
            return f"changelog entry refused: {describe_errors(error, 'value')}"
        return None

    def entry(self, key: str) -> Entry | None:
        """The key's changelog entry as it stands, e.g. to hand one key's state to another process."""
        held = self._by_key.get(key)
        return None if held is None else _entry(key, held)

    def entries(self) -> Iterator[Entry]:
        """Every key's entry: what a compacted changelog of this state holds."""
        return (_entry(key, held) for key, held in self._by_key.items())

    def _set(self, key: str, conversation: Conversation) -> tuple[Entry, ...]:
        self._by_key[key] = conversation
        return (_entry(key, conversation),)


def _entry(key: str, conversation: Conversation) -> Entry:
    return Entry(key.encode(), _STORED.dump_json(conversation, exclude_none=True))


def _claim_key(key: bytes | None) -> str:
    if not key:
        raise ValueError("no key: a claim is keyed by the claim_key of the record it claims")
    if len(key) > MAX_CLAIM_KEY_BYTES:
        raise ValueError(f"key of {len(key)} bytes, limit {MAX_CLAIM_KEY_BYTES}")
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the key is not UTF-8") from None


def _parse_claim(value: bytes | None) -> Claim:
    return parse_tool_record(Claim, value, MAX_CLAIM_BYTES)
