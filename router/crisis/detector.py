"""The crisis detector: fed routed mentions in order, on event time, it opens, grows and resolves incidents.

Pure: no clock, no I/O. Time is the mentions' own `created_at` (and whatever `tick` is given), so the same
mentions in the same order open the same incidents with the same ids, in a replay as in the worker. Every
change returns the changelog entries of the scopes it touched, each the scope's whole state; `restore`
rebuilds the detector from them, and a restored detector goes on exactly as the one that wrote them.

A baseline needs a history: for the first `baseline` of event time after its first counted mention the
detector only learns (influencers still open incidents), so that a busy brand does not look like a spike
to a detector that has just started.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple, Protocol

from pydantic import ValidationError

from router.crisis import windows
from router.crisis.events import IncidentEvent
from router.crisis.scopes import (
    MAX_EXAMPLES,
    MAX_RECENT_TERMS,
    MAX_TERMS_KEPT,
    STORED,
    Open,
    Recent,
    ScopeState,
    Trigger,
    encode,
)
from router.crisis.settings import CrisisSettings, Incident
from router.crisis.signals import Signal
from router.mentions.decode import describe_errors

# An incident reports again ("updated") once its highest window count has grown by half since it last reported.
GROWTH = 1.5


class Entry(NamedTuple):
    """One changelog record: the scope key, and the scope's whole state as JSON (None: the scope is forgotten)."""

    key: bytes
    value: bytes | None


class Verdict(NamedTuple):
    """What feeding a mention (or a tick) gave: the open incident it belongs to, the events, the changelog entries.

    Without changelog entries, `touched` names the scopes that changed: `Detector.entries_of` gives their entries
    later, so that a batch writes each scope's state once.
    """

    incident: Incident | None
    events: tuple[IncidentEvent, ...] = ()
    entries: tuple[Entry, ...] = ()
    touched: tuple[str, ...] = ()


class Feeder(Protocol):
    """What routing feeds signals to: a `Detector`, or a stand-in handing out incidents decided elsewhere."""

    def feed(self, signal: Signal) -> Verdict: ...

    @property
    def words_of_uncounted(self) -> bool:
        """Whether a mention that does not count needs its significant words: one of them has an open incident."""
        ...


class Recorder:
    """Takes note of the signals it is fed and opens nothing: the first pass of routing in parallel."""

    words_of_uncounted = True  # what the detector will make of them is not known yet

    def __init__(self) -> None:
        self.signals: list[Signal] = []

    def feed(self, signal: Signal) -> Verdict:
        self.signals.append(signal)
        return Verdict(None)


class Assigned:
    """Hands out, in order, the incidents a detector elsewhere gave the same signals: the second pass."""

    words_of_uncounted = False  # only the order of the signals matters here

    def __init__(self, incidents: Iterable[Incident | None]) -> None:
        self._incidents = iter(incidents)

    def feed(self, signal: Signal) -> Verdict:
        incident = next(self._incidents, None)
        return Verdict(incident)


class _Changes:
    """The events and the touched scopes of one feed or tick, turned into a verdict once it is done."""

    def __init__(self) -> None:
        self.events: list[IncidentEvent] = []
        self.keys: dict[str, None] = {}

    def verdict(self, scopes: dict[str, ScopeState], incident: Incident | None, changelog: bool = True) -> Verdict:
        if not changelog:
            return Verdict(incident, tuple(self.events), (), tuple(self.keys)) if self.keys else Verdict(incident)
        return Verdict(incident, tuple(self.events), entries_of(scopes, self.keys))


class Detector:
    """Counts per scope, the incidents open, and the latest event time seen; one per process, or per shard of scopes."""

    def __init__(self, settings: CrisisSettings, changelog: bool = True) -> None:
        self.settings = settings
        self._changelog = changelog  # whether verdicts carry changelog entries (a replay has no use for them)
        self._rules = {rule.kind: rule for rule in settings.scopes}
        self._size = settings.window // settings.hop  # buckets per window
        self._span = settings.baseline // settings.hop  # buckets per baseline
        self._scopes: dict[str, ScopeState] = {}
        self._due: dict[str, int] = {}  # scope of each open incident -> when it resolves unless it heats up again
        self._watermark: int | None = None  # the latest event time seen
        self._started: int | None = None  # the first counted mention's time, which every scope state keeps
        self._next_sweep: int | None = None

    def __len__(self) -> int:
        return len(self._scopes)

    @property
    def words_of_uncounted(self) -> bool:
        return any(key.startswith("topic:") for key in self._due)

    def feed(self, signal: Signal) -> Verdict:
        """Count one routed mention; the incident it belongs to (its first scope with one open) and what changed."""
        if not self.settings.enabled:
            return Verdict(None)
        changes = _Changes()
        self._advance(signal.at, changes)
        member = next((key for key in signal.scopes if key in self._due), None)
        if member is not None:
            self._open_in(member).mentions += 1
            changes.keys[member] = None
        if signal.counted:
            # Shared: no scope changes it. Bounded, as its changelog entry must be to be restored.
            recent = Recent(signal.mention_id, signal.at, list(signal.terms[:MAX_RECENT_TERMS]))
            for key in signal.scopes:
                # A mention opens at most one incident, and none when it belongs to one already.
                if self._count(key, signal, recent, member is None, changes):
                    member = key
            if member is None and signal.influential and signal.scopes:
                member = self._open(signal.scopes[0], signal, "influencer", changes)
        incident = None if member is None else Incident(self._open_in(member).id, member)
        return changes.verdict(self._scopes, incident, self._changelog)

    def tick(self, now: datetime | int) -> Verdict:
        """Event time has reached `now` without a mention: incidents calm for long enough resolve."""
        changes = _Changes()
        if self.settings.enabled:
            self._advance(int(now.timestamp()) if isinstance(now, datetime) else now, changes)
        return changes.verdict(self._scopes, None, self._changelog)

    def restore(self, key: bytes, value: bytes | None) -> str | None:
        """Apply a changelog entry (None: a tombstone); returns why an entry was refused."""
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError:
            return "crisis changelog entry refused: the key is not UTF-8"
        if value is None:
            self._scopes.pop(name, None)
            self._due.pop(name, None)
            return None
        try:
            state = STORED.validate_json(value)
        except ValidationError as error:
            return f"crisis changelog entry refused: {describe_errors(error, 'value')}"
        self._started = state.started if self._started is None else min(self._started, state.started)
        self._watermark = max(self._watermark or state.last, state.last)
        if state.hop != self.settings.hop:  # counts per another hop (the config changed): only the incident carries
            state.hop, state.buckets, state.recent, state.quiet = self.settings.hop, [], [], None
        state.buckets.sort()
        self._scopes[name] = state
        if state.incident is not None:
            self._due[name] = state.incident.hot_until + self.settings.calm
        else:
            self._due.pop(name, None)
        return None

    def entries(self) -> Iterator[Entry]:
        """Every scope's entry: what a compacted changelog of this state holds."""
        return (Entry(key.encode(), encode(state)) for key, state in self._scopes.items())

    def entries_of(self, keys: Iterable[str]) -> tuple[Entry, ...]:
        """The entries of these scopes as they stand (a tombstone for one forgotten)."""
        return entries_of(self._scopes, keys)

    def open_incidents(self) -> list[Incident]:
        return [Incident(self._open_in(key).id, key) for key in self._due]

    def _open_in(self, key: str) -> Open:
        """The open incident of a scope in `_due`."""
        incident = self._scopes[key].incident
        assert incident is not None, f"scope {key} has no open incident"
        return incident

    def _count(self, key: str, signal: Signal, recent: Recent, may_open: bool, changes: _Changes) -> bool:
        """Count the mention in scope `key`; True when this opened the scope's incident."""
        hop = self.settings.hop
        bucket = signal.at // hop
        state = self._scopes.get(key)
        if state is None:
            if self._started is None:
                self._started = signal.at
            state = self._scopes[key] = ScopeState(hop, [], [], signal.at, self._started)
        newest = max(bucket, state.buckets[-1][0]) if state.buckets else bucket
        windows.add(state.buckets, bucket, newest - self._span - self._size)
        state.recent.append(recent)
        if len(state.recent) > MAX_EXAMPLES:
            del state.recent[0]
        state.last = max(state.last, signal.at)
        changes.keys[key] = None
        count = windows.window_count(state.buckets, bucket, self._size)
        if state.incident is not None:
            self._heat(key, state, signal, bucket, count, changes)
            return False
        rule = self._rules.get(key.partition(":")[0])
        if not may_open or rule is None or count < rule.min_count or signal.at < state.started + self.settings.baseline:
            return False
        if self._too_late(bucket):
            return False
        if count < rule.threshold(windows.baseline(state.buckets, bucket, self._size, self._span, state.quiet)):
            return False
        return self._open(key, signal, "spike", changes) is not None

    def _open(self, key: str, signal: Signal, trigger: Trigger, changes: _Changes) -> str | None:
        """Open the scope's incident; none when it would be over already (a mention too late to act on)."""
        state, hop = self._scopes[key], self.settings.hop
        rule = self._rules.get(key.partition(":")[0])
        bucket = signal.at // hop
        count = windows.window_count(state.buckets, bucket, self._size)
        base = windows.baseline(state.buckets, bucket, self._size, self._span, state.quiet)
        threshold = rule.threshold(base) if rule is not None else count
        end = (bucket + 1) * hop
        start = end - self.settings.window
        window = [recent for recent in state.recent if start <= recent.at < end]
        hot = windows.hot_until(state.buckets, bucket, self._size, threshold)
        incident = Open(
            id=incident_id(key, start), trigger=trigger, opened_at=signal.at, since=start, start=start, end=end,
            count=count, reported=count, baseline=base, threshold=threshold, mentions=1, hot_until=(hot + 1) * hop,
            examples=[recent.id for recent in window][:MAX_EXAMPLES],
            terms=dict(Counter(term for recent in window for term in recent.terms)), unit=signal.unit,
        )
        if self._watermark is not None and incident.hot_until + self.settings.calm <= self._watermark:
            return None
        _trim(incident)
        state.incident = incident
        self._due[key] = incident.hot_until + self.settings.calm
        changes.keys[key] = None
        changes.events.append(IncidentEvent.of(key, "opened", incident))
        return key

    def _too_late(self, bucket: int) -> bool:
        """Whether any incident opened from this bucket would be over already: its windows end within `size` hops."""
        latest_end = (bucket + self._size) * self.settings.hop
        return self._watermark is not None and latest_end + self.settings.calm <= self._watermark

    def _heat(self, key: str, state: ScopeState, signal: Signal, bucket: int, count: int, changes: _Changes) -> None:
        """A counted mention of an open incident's scope: it may keep it hot, raise its peak, and report growth."""
        incident, hop = self._open_in(key), self.settings.hop
        if count >= incident.threshold:
            hot = windows.hot_until(state.buckets, bucket, self._size, incident.threshold)
            incident.hot_until = max(incident.hot_until, (hot + 1) * hop)
        if signal.influential:
            incident.hot_until = max(incident.hot_until, (bucket + 1) * hop)
        self._due[key] = incident.hot_until + self.settings.calm
        if len(incident.examples) < MAX_EXAMPLES and signal.mention_id not in incident.examples:
            incident.examples.append(signal.mention_id)
        for term in signal.terms:
            incident.terms[term] = incident.terms.get(term, 0) + 1
        _trim(incident)
        if count > incident.count:
            incident.count, incident.end = count, (bucket + 1) * hop
            incident.start = incident.end - self.settings.window
        if incident.count > incident.reported and incident.count >= GROWTH * incident.reported:
            incident.reported = incident.count
            changes.events.append(IncidentEvent.of(key, "updated", incident))

    def _advance(self, now: int, changes: _Changes) -> None:
        """Event time moves to `now` (never back): due incidents resolve, and long-quiet scopes are forgotten."""
        if self._watermark is None or now > self._watermark:
            self._watermark = now
        watermark = self._watermark
        if self._due and min(self._due.values()) <= watermark:
            for key, due in sorted(self._due.items(), key=lambda item: (item[1], item[0])):
                if due > watermark:
                    break
                self._resolve(key, changes)
        if self._next_sweep is None or watermark >= self._next_sweep:
            self._next_sweep = watermark + self.settings.baseline
            self._sweep(watermark, changes)

    def _resolve(self, key: str, changes: _Changes) -> None:
        state, hop, incident = self._scopes[key], self.settings.hop, self._open_in(key)
        state.quiet = (incident.since // hop, incident.hot_until // hop - 1)
        state.incident = None
        del self._due[key]
        changes.keys[key] = None
        changes.events.append(IncidentEvent.of(key, "resolved", incident, incident.hot_until + self.settings.calm))

    def _sweep(self, now: int, changes: _Changes) -> None:
        """Forget the scopes no window or baseline reads any more: a compacted changelog forgets them too."""
        horizon = now - self.settings.baseline - self.settings.window
        for key in [key for key, state in self._scopes.items() if state.incident is None and state.last < horizon]:
            del self._scopes[key]
            changes.keys[key] = None


def detector_for(settings: CrisisSettings | None, changelog: bool = True) -> Detector | None:
    """A fresh detector for a config's `crisis:` section; None when it has none or it is switched off."""
    return Detector(settings, changelog) if settings is not None and settings.enabled else None


def entries_of(scopes: dict[str, ScopeState], keys: Iterable[str]) -> tuple[Entry, ...]:
    return tuple(Entry(key.encode(), encode(scopes[key]) if key in scopes else None) for key in keys)


def incident_id(scope: str, window_start: int) -> str:
    """The same scope tripping in the same window is the same incident, in every replay and every worker."""
    return "inc-" + hashlib.sha256(f"{scope}\n{window_start}".encode()).hexdigest()[:16]


def _trim(incident: Open) -> None:
    if len(incident.terms) > MAX_TERMS_KEPT:
        kept = sorted(incident.terms.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS_KEPT * 4 // 5]
        incident.terms = dict(kept)
