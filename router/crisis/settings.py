"""The `crisis:` section of a routing config, compiled: windows, thresholds, scopes, influencers, override.

Nothing here imports the rules package, which compiles this section: the detector and the rules both use it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

SCOPE_KINDS = ("brand", "unit", "topic")


@dataclass(frozen=True)
class ScopeRule:
    """How one kind of scope trips: at least `min_count` counted mentions in a window, and `ratio` × its baseline."""

    kind: str
    min_count: int
    ratio: float
    hashtags: bool = False  # topic: each hashtag is a scope
    terms: bool = False  # topic: each significant word is a scope

    def threshold(self, baseline: float) -> int:
        """The count a window must reach to trip, against the scope's baseline."""
        return max(self.min_count, _ceil(self.ratio * baseline))


@dataclass(frozen=True)
class Influencers:
    """An author whose one negative mention opens an incident on its own."""

    verified: bool = False
    followers: int | None = None

    def include(self, verified: bool | None, followers: int | None) -> bool:
        if self.verified and verified:
            return True
        return self.followers is not None and followers is not None and followers >= self.followers


@dataclass(frozen=True)
class Override:
    """What changes for every mention of an open incident's scope, on top of its own routing."""

    priority: str | None = None  # raised to at least this
    copies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    escalate: bool = False  # delivered as a crisis: the organisation model's crisis path

    def describe(self) -> str:
        parts = [f"priority at least {self.priority}"] if self.priority else []
        parts += [f"copies {', '.join(self.copies)}"] if self.copies else []
        parts += [f"tags {', '.join(self.tags)}"] if self.tags else []
        parts += ["escalate (delivered as a crisis)"] if self.escalate else []
        return "; ".join(parts) or "nothing (the mentions only carry the incident id)"


@dataclass(frozen=True)
class IncidentRecord:
    """Who receives the incident record itself: an owner, delivered as a crisis, with copies."""

    owner: str
    copies: tuple[str, ...] = ()
    priority: str = "urgent"


@dataclass(frozen=True)
class CrisisSettings:
    """The compiled `crisis:` section; durations in seconds."""

    window: int
    hop: int
    baseline: int
    calm: int
    scopes: tuple[ScopeRule, ...]  # in the order a mention's scopes are checked
    incident: IncidentRecord
    labels: frozenset[str] = frozenset({"complaint", "pr_crisis"})
    brands: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (source, account key) -> brand
    influencers: Influencers | None = None
    override: Override = Override()
    enabled: bool = True

    def rule(self, kind: str) -> ScopeRule | None:
        return next((rule for rule in self.scopes if rule.kind == kind), None)

    @property
    def terms(self) -> bool:
        """Whether significant words are scopes of their own."""
        return any(rule.terms for rule in self.scopes)

    def outline(self) -> list[str]:
        """What `check-config --tree` shows of the section, one fact a line."""
        lines = [f"crisis: {'on' if self.enabled else 'off (enabled: false)'}; counts "
                 f"{', '.join(sorted(self.labels))} and escalations; window {_span(self.window)} every "
                 f"{_span(self.hop)}, baseline {_span(self.baseline)}, resolved after {_span(self.calm)} calm"]
        for rule in self.scopes:
            topic = [name for name, on in (("hashtags", rule.hashtags), ("terms", rule.terms)) if on]
            extra = f" ({', '.join(topic)})" if topic else ""
            lines.append(f"  scope {rule.kind}{extra}: trips at {rule.min_count} or more and {rule.ratio:g} × baseline")
        brands: dict[str, list[str]] = {}
        for (source, account), brand in self.brands.items():
            brands.setdefault(brand, []).append(f"{source} {account}")
        lines += [f"  brand {brand}: {', '.join(accounts)}" for brand, accounts in brands.items()]
        if self.influencers is not None:
            who = [w for w, on in (("verified", self.influencers.verified),
                                   (f"{self.influencers.followers} followers or more",
                                    self.influencers.followers is not None)) if on]
            lines.append(f"  influencers: {' or '.join(who)} (one negative mention opens an incident)")
        lines.append(f"  override for the mentions of an open incident: {self.override.describe()}")
        copies = f", copies {', '.join(self.incident.copies)}" if self.incident.copies else ""
        lines.append(f"  incident record: owner {self.incident.owner}{copies}, priority {self.incident.priority}")
        return lines


@dataclass(frozen=True)
class Incident:
    """An open incident as routing sees it: the id every mention of its scope carries, and the scope."""

    id: str
    scope: str


def _ceil(value: float) -> int:
    whole = int(value)
    return whole + 1 if value > whole else whole


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * size):  # 24h reads better than 1d
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
