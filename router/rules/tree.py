"""The compiled routing tree: depth-first, first match wins unless `continue`, settings inherited."""

from dataclasses import dataclass, field

from router.rules.facts import Facts
from router.rules.matchers import Matcher
from router.rules.servicelevel import Duration

PRIORITIES = ("low", "normal", "high", "urgent")
_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class RouteSettings:
    """What a route decides; a child starts from its parent's settings and overrides some."""

    owner: str | None = None
    priority: str = "normal"
    copies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    escalate: bool = False
    sticky: bool = True  # a reply in a thread keeps the thread's owner
    respond_within: Duration | None = None


@dataclass(frozen=True, eq=False)
class Route:
    name: str
    path: tuple[str, ...]
    line: int
    matchers: tuple[Matcher, ...]
    settings: RouteSettings
    cont: bool = False
    children: tuple["Route", ...] = ()

    def matches(self, facts: Facts) -> bool:
        return all(m.matches(facts) for m in self.matchers)


@dataclass(frozen=True)
class Visit:
    """One route considered while routing a mention, for explanations."""

    route: Route
    depth: int
    matched: bool
    checks: tuple[tuple[Matcher, bool], ...] = ()
    skipped_by: str | None = None  # an earlier sibling that matched without continue


@dataclass(frozen=True)
class RuleResult:
    """The rules' decision before the org model turns it into topics."""

    owner: str | None
    priority: str
    copies: tuple[str, ...]
    tags: tuple[str, ...]
    escalate: bool
    route: tuple[str, ...]
    matched: tuple[tuple[str, ...], ...] = field(default=())


def walk(route: Route, facts: Facts, trace: list[Visit] | None = None, depth: int = 0) -> list[Route]:
    """Alertmanager's order: the matching routes, depth-first; the node itself when no child matches."""
    if trace is not None:
        checks = tuple((m, m.matches(facts)) for m in route.matchers)
        trace.append(Visit(route, depth, all(ok for _, ok in checks), checks))
    if not route.matches(facts):
        return []
    found, _ = _walk_children(route, facts, trace, depth + 1)
    return found or [route]


def unit_first(own: Route, tree: Route, facts: Facts, trace: list[Visit] | None = None) -> list[Route]:
    """A business unit's own routes, tried as if they were the root's first children; the tree when none decides.

    The first of the unit's routes that matches without `continue` decides, and the corporate tree is not tried.
    When none does, the corporate tree routes the mention, after any `continue` routes of the unit that matched.
    """
    if trace is not None:
        trace.append(Visit(own, 0, True))
    found, decided = _walk_children(own, facts, trace, 1)
    if decided:
        return found
    return found + (matching(tree, facts) if trace is None else walk(tree, facts, trace))


def _walk_children(route: Route, facts: Facts, trace: list[Visit] | None, depth: int) -> tuple[list[Route], bool]:
    """The children's matching routes in order, and whether one matched without `continue` (and so decided)."""
    found: list[Route] = []
    for index, child in enumerate(route.children):
        hits = walk(child, facts, trace, depth)
        found.extend(hits)
        if hits and not child.cont:
            if trace is not None:
                later = route.children[index + 1:]
                trace.extend(Visit(sibling, depth, False, skipped_by=child.name) for sibling in later)
            return found, True
    return found, False


def matching(route: Route, facts: Facts) -> list[Route]:
    """What `walk` returns, without a trace: the same order, with plain loops, for the hot path."""
    for matcher in route.matchers:
        if not matcher.matches(facts):
            return []
    found: list[Route] = []
    for child in route.children:
        hits = matching(child, facts)
        if hits:
            found += hits
            if not child.cont:
                break
    return found or [route]


def combine(matched: list[Route]) -> RuleResult:
    """The last match is the one that won; earlier `continue` matches add copies, tags and priority."""
    winner = matched[-1].settings
    owner = winner.owner
    copies: dict[str, None] = {}
    tags: dict[str, None] = {}
    priority = winner.priority
    for route in matched:
        s = route.settings
        copies.update(dict.fromkeys(s.copies))
        tags.update(dict.fromkeys(s.tags))
        if _RANK[s.priority] > _RANK[priority]:
            priority = s.priority
    if owner is not None:
        copies.pop(owner, None)
    return RuleResult(
        owner=owner,
        priority=priority,
        copies=tuple(copies),
        tags=tuple(tags),
        escalate=any(r.settings.escalate for r in matched),
        route=matched[-1].path,
        matched=tuple(r.path for r in matched),
    )
