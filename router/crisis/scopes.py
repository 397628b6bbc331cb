"""What one scope holds: its counts per hop, its last counted mentions, and its open incident; with its JSON.

A scope's whole state is the value of its changelog entry, and no state names another scope: the
state can be split by scope key and each part rebuilt alone.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

MAX_EXAMPLES = 5
MAX_RECENT_TERMS = 16  # a counted mention's terms kept for its scope's next incident
MAX_TERMS_KEPT = 50  # an incident's term counts; the top few are reported
MAX_BUCKETS = 4096  # more than a config allows (baseline plus window, in hops): a bound for what a changelog holds
_STRICT = ConfigDict(extra="forbid", strict=True)
_ID = Field(min_length=1, max_length=1000)
Trigger = Literal["spike", "influencer"]
_PAIR = Annotated[list[int], Field(min_length=2, max_length=2)]  # [bucket, count]


# Plain dataclasses: built for each counted mention, they skip validation; a changelog entry is validated
# whole, strictly, by STORED when it is restored.
@dataclass(slots=True)
class Recent:
    """A counted mention of the scope: the first mentions of an incident are its examples."""

    __pydantic_config__ = _STRICT

    id: Annotated[str, _ID]
    at: int
    terms: Annotated[list[str], Field(max_length=MAX_RECENT_TERMS)]


@dataclass(slots=True)
class Open:
    """An open incident; times in Unix seconds."""

    __pydantic_config__ = _STRICT

    id: Annotated[str, _ID]
    trigger: Trigger
    opened_at: int  # event time of the mention that opened it
    since: int  # start of the window that opened it
    start: int  # the window of the highest count so far
    end: int
    count: int  # the highest window count so far
    reported: int  # the count the last event gave
    baseline: float  # the scope's baseline when it opened; it does not move while the incident lasts
    threshold: int  # the count that keeps it hot
    mentions: int  # mentions of the scope routed in it, whatever their label
    hot_until: int  # end of the last window at or over the threshold (or of an influencer's mention)
    examples: Annotated[list[Annotated[str, _ID]], Field(max_length=MAX_EXAMPLES)]
    terms: Annotated[dict[str, int], Field(max_length=MAX_TERMS_KEPT)]
    unit: str | None = None


@dataclass(slots=True)
class ScopeState:
    """A scope's counts, its recent counted mentions, the span its last incident left out of the baseline."""

    __pydantic_config__ = _STRICT

    hop: int  # the counts' hop: counts of another hop (a changed config) are not comparable and are dropped
    buckets: Annotated[list[_PAIR], Field(max_length=MAX_BUCKETS)]
    recent: Annotated[list[Recent], Field(max_length=MAX_EXAMPLES)]
    last: int  # latest event time counted here
    started: int  # when the detector counted its first mention: no spike opens before a whole baseline has passed
    quiet: tuple[int, int] | None = None  # first and last bucket of the last incident, left out of the baseline
    incident: Open | None = None


STORED = TypeAdapter(ScopeState)


def encode(state: ScopeState) -> bytes:
    return STORED.dump_json(state, exclude_none=True)
