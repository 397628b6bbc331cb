"""Crisis mode in the worker: signals on the wire, the incidents open as the incident events tell, routing in them.

Pure: the worker's loops move these bytes to and from Kafka. Routing sends the detector the signal of every
mention that counts (and of every mention it routed in an incident, which the incident's tally counts); the
detector's incident events tell routing which scopes have an incident open.
"""

from collections.abc import Mapping
from typing import Annotated

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router.crisis.detector import Verdict
from router.crisis.scopes import MAX_RECENT_TERMS
from router.crisis.settings import Incident
from router.crisis.signals import Signal
from router.mentions.decode import describe_errors

_TEXT = Field(min_length=1, max_length=1000)


class _Wire(BaseModel):
    """A signal record's value, checked whole: the topic is the worker's own, but a bad record must not stop it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: Annotated[str, _TEXT]
    at: int
    counted: bool
    influential: bool
    scopes: Annotated[tuple[Annotated[str, _TEXT], ...], Field(max_length=16)]
    terms: Annotated[tuple[Annotated[str, _TEXT], ...], Field(max_length=MAX_RECENT_TERMS)]
    unit: Annotated[str, _TEXT] | None = None


def signal_record(signal: Signal) -> tuple[bytes | None, bytes]:
    """The signal's key and value: keyed by its first scope, the one an influencer's mention opens."""
    key = signal.scopes[0].encode() if signal.scopes else None
    return key, orjson.dumps({"id": signal.mention_id, "at": signal.at, "counted": signal.counted,
                              "influential": signal.influential, "scopes": signal.scopes,
                              "terms": signal.terms[:MAX_RECENT_TERMS], "unit": signal.unit})


def parse_signal(value: bytes | None) -> Signal | str:
    """The signal a record holds, or why it holds none."""
    try:
        wire = _Wire.model_validate_json(value or b"")
    except ValidationError as error:
        return f"signal refused: {describe_errors(error, 'value')}"
    return Signal(wire.id, wire.at, wire.counted, wire.influential, wire.scopes, wire.terms, wire.unit)


class OpenIncidents:
    """The incidents open, by scope, as the incident events read so far say; events may come in any order.

    Events of one incident come in order (they share its key), those of two incidents of one scope may not:
    each scope keeps every incident opened and not yet resolved, and routing uses the latest opened.
    """

    def __init__(self) -> None:
        self._open: dict[str, dict[str, str]] = {}  # scope -> incident id -> when it opened (ISO, UTC: sortable)
        self._current: dict[str, Incident] = {}

    def apply(self, value: bytes | None) -> str | None:
        """Take an incident event in; returns why one was refused."""
        try:
            event = orjson.loads(value or b"")
            incident_id, scope, state = event["incident_id"], event["scope"], event["state"]
            opened = str(event.get("opened_at"))
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            return f"incident event refused: {type(error).__name__}: {error}"
        if not isinstance(incident_id, str) or not isinstance(scope, str) or state not in ("opened", "updated",
                                                                                           "resolved"):
            return "incident event refused: incident_id, scope and state are not those of an incident event"
        held = self._open.setdefault(scope, {})
        if state == "resolved":
            held.pop(incident_id, None)
        else:
            held.setdefault(incident_id, opened)
        self._current = {scope: Incident(max(ids, key=lambda i: (ids[i], i)), scope)
                         for scope, ids in self._open.items() if ids}
        return None

    def current(self) -> Mapping[str, Incident]:
        """Scope -> its open incident; a new mapping after each change, so a batch may keep the one it started with."""
        return self._current


class Live:
    """Routing's stand-in for the detector: the incident each mention belongs to, and the signals to send it."""

    def __init__(self, incidents: Mapping[str, Incident]) -> None:
        self._incidents = incidents
        self._signals: list[Signal] = []
        self._latest: Signal | None = None  # the latest mention in event time, sent or not
        self._sent_until: int | None = None  # the latest time of the signals sent

    @property
    def words_of_uncounted(self) -> bool:
        return any(key.startswith("topic:") for key in self._incidents)

    def feed(self, signal: Signal) -> Verdict:
        incident = next((self._incidents[key] for key in signal.scopes if key in self._incidents), None)
        if signal.counted or incident is not None:
            self._signals.append(signal)
            self._sent_until = max(signal.at, self._sent_until or signal.at)
        if self._latest is None or signal.at > self._latest.at:
            self._latest = signal
        return Verdict(incident)

    def signals(self) -> list[Signal]:
        """The signals to send; then, unless it is one of them, the batch's latest time as a signal of no scope.

        A replay's detector reads every mention's time, and an incident resolves once time has passed its calm:
        the latest time of each batch moves the live detector's clock as far, at the cost of one record.
        """
        latest = self._latest
        if latest is None or (self._sent_until is not None and self._sent_until >= latest.at):
            return self._signals
        return [*self._signals, Signal(latest.mention_id, latest.at, False, False, (), (), None)]
