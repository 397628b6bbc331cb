"""Crisis test helpers: settings, signals at given minutes, and a detector fed a stream of them."""

from router.crisis.detector import Detector, Verdict
from router.crisis.settings import CrisisSettings, IncidentRecord, Influencers, ScopeRule
from router.crisis.signals import Signal

T0 = 1_800_000_000 - 1_800_000_000 % 3600  # a whole hour, so that windows start where the tests say
SETTINGS = CrisisSettings(
    window=3600, hop=900, baseline=86400, calm=7200,
    scopes=(ScopeRule("brand", 5, 3.0), ScopeRule("topic", 6, 4.0, hashtags=True, terms=True)),
    incident=IncidentRecord("public_affairs", ("legal",)), influencers=Influencers(verified=True, followers=50_000),
)


def signal(mention_id: str, minute: float, *, counted: bool = True, scopes: tuple[str, ...] = ("brand:hotel",),
           influential: bool = False, terms: tuple[str, ...] = ("spa",)) -> Signal:
    """A signal `minute` minutes after T0."""
    return Signal(mention_id, T0 + int(minute * 60), counted, influential, scopes, terms, None)


def calm_day(scopes: tuple[str, ...] = ("brand:hotel",), every: int = 120, hours: int = 24) -> list[Signal]:
    """One counted mention every `every` minutes over the `hours` before T0."""
    return [signal(f"calm-{n}", -hours * 60 + n * every, scopes=scopes) for n in range(hours * 60 // every)]


def spike(count: int = 20, start: float = 30, every: float = 3, scopes: tuple[str, ...] = ("brand:hotel",)) -> list[Signal]:
    return [signal(f"spike-{n}", start + n * every, scopes=scopes, terms=("#legionella", "fever"))
            for n in range(count)]


def after(hours: int = 6, every: int = 30, start: float = 120) -> list[Signal]:
    """Ordinary traffic after the spike: uncounted mentions of the same brand, then of another one."""
    return [signal(f"after-{n}", start + n * every, counted=n % 2 == 0, scopes=("brand:hotel",) if n % 3 else
                   ("brand:golf",)) for n in range(hours * 60 // every)]


def feed_all(detector: Detector, signals: list[Signal]) -> list[Verdict]:
    return [detector.feed(item) for item in signals]


def events(verdicts: list[Verdict]) -> list[tuple[str, str, str]]:
    """(state, incident id, scope) of every event, in order."""
    return [(event.state, event.incident_id, event.scope) for verdict in verdicts for event in verdict.events]
