"""Plain-text renderings for operators: the routing tree and a decision's explanation."""

from router.classify.labels import CRISIS_LABEL
from router.rules.businesshours import WEEKDAYS
from router.rules.calendarconfig import describe_calendar
from router.rules.config import Explanation, RoutingConfig
from router.rules.matchers import AnyWord, Matcher
from router.rules.tree import Route, Visit


def render_tree(config: RoutingConfig) -> list[str]:
    """The organisation layer, then the compiled tree, one route a line, with each route's effective settings."""
    lines = [f"org_model: {config.org_model}   config: {config.hash}"]
    if config.calendar is not None:
        lines.append(f"calendar: {describe_calendar(config.calendar)}")
    lines.append("organisation:")
    lines += ["  " + line for line in config.model.outline(render_routes)]
    if config.crisis is not None:
        lines += config.crisis.outline()
    lines.append("routes:")
    return lines + render_routes(config.tree)


def render_routes(route: Route) -> list[str]:
    """A route and its descendants, one a line, drawn as a tree."""
    lines: list[str] = []
    _tree_lines(route, "", "", lines)
    return lines


def _tree_lines(route: Route, lead: str, child_lead: str, out: list[str]) -> None:
    out.append(f"{lead}{route.name}{_matchers(route)}{'  continue' if route.cont else ''}  -> {_settings(route)}")
    for index, child in enumerate(route.children):
        last = index == len(route.children) - 1
        branch, trunk = ("└── ", "    ") if last else ("├── ", "│   ")
        _tree_lines(child, child_lead + branch, child_lead + trunk, out)


def _matchers(route: Route) -> str:
    return "  [" + ", ".join(_short(m) for m in route.matchers) + "]" if route.matchers else ""


def _short(matcher: Matcher) -> str:
    if isinstance(matcher, AnyWord) and len(matcher.keys) > 5:
        shown = ", ".join(key.strip() for key in matcher.keys[:5])
        return f"words: {shown} ... (+{len(matcher.keys) - 5} more)"
    return matcher.text


def _settings(route: Route) -> str:
    s = route.settings
    parts = [f"owner={s.owner or 'unassigned'}", f"priority={s.priority}"]
    if s.copies:
        parts.append("copies=" + ",".join(s.copies))
    if s.tags:
        parts.append("tags=" + ",".join(s.tags))
    if s.escalate:
        parts.append("escalate")
    if not s.sticky:
        parts.append("sticky=false")
    if s.respond_within is not None:
        parts.append(f"respond_within={s.respond_within}")
    return " ".join(parts)


def render_explanation(config: RoutingConfig, explanation: Explanation, threshold: float | None) -> list[str]:
    d, c = explanation.decision, explanation.classification
    scores = ", ".join(f"{label} {score:.2f}" for label, score in sorted(c.scores.items(), key=lambda kv: -kv[1]))
    limit = f", threshold {threshold:.2f}" if threshold is not None else ""
    reason = c.low_confidence_reason(explanation.low_confidence)
    low = f", LOW ({reason}): triage" if reason else ""
    unit = f"   business unit: {explanation.unit}" if explanation.unit else ""
    lines = [
        f"label: {c.label} (confidence {c.confidence:.2f}{limit}{low})",
        f"scores: {scores or '-'}",
        f"org_model: {config.org_model}   config: {config.hash}{unit}",
        *_local_time(config, explanation),
        "routes visited:",
    ]
    lines += [_visit_line(config, v, explanation) for v in explanation.visits]
    lines += [
        "decision:",
        f"  owner: {d.owner}",
        f"  queues: {', '.join(d.queues) or '-'}",
        f"  priority: {d.priority}",
        f"  copies: {', '.join(d.copies) or '-'}",
        f"  tags: {', '.join(d.tags) or '-'}",
        f"  route: {' > '.join(d.route)}",
    ]
    if explanation.service_level is not None or _has_service_levels(config.tree):
        lines.append(f"  due_by: {_due_by(config, explanation)}")
    if len(explanation.result.matched) > 1:
        lines.append("  also matched (continue): " + "; ".join(" > ".join(p) for p in explanation.result.matched[:-1]))
    if explanation.crisis:
        lines.append(f"  crisis: yes (label {CRISIS_LABEL} or a route with escalate: true)")
    if explanation.thread:
        lines.append(f"  thread owner: {explanation.thread}")
    if explanation.incident is not None and config.crisis is not None:
        lines.append(f"  incident: {explanation.incident.id} (scope {explanation.incident.scope}); "
                     f"crisis override: {config.crisis.override.describe()}")
    return lines


def _local_time(config: RoutingConfig, explanation: Explanation) -> list[str]:
    """When the mention was made on the company's clock, which the hour, weekday and business_hours matchers read."""
    local = explanation.facts.local_time
    if config.calendar is None or local is None:
        return []
    state = "open" if config.calendar.is_open(explanation.facts.mention.created_at) else "closed"
    return [f"local time: {WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} {config.calendar.name} ({state})"]


def _has_service_levels(route: Route) -> bool:
    return route.settings.respond_within is not None or any(_has_service_levels(c) for c in route.children)


def _due_by(config: RoutingConfig, explanation: Explanation) -> str:
    level = explanation.service_level
    if level is None:
        return "- (no respond_within)"
    due = level.due(explanation.facts.mention.created_at)
    if due is None:
        return "- (past the last date a deadline can hold)"
    due_by, within = due
    if level.calendar is not None:
        return f"{due_by.isoformat()} (respond within {within} of business time, {level.calendar.name})"
    clock = "a crisis" if config.calendar is not None else "no calendar"
    return f"{due_by.isoformat()} (respond within {within}, around the clock: {clock})"


def _visit_line(config: RoutingConfig, visit: Visit, explanation: Explanation) -> str:
    indent = "  " * (visit.depth + 1)
    if visit.skipped_by is not None:
        return f"{indent}{visit.route.name}: not tried, the earlier sibling {visit.skipped_by} matched without continue"
    if visit.route is config.model.own_routes(explanation.unit):
        return f"{indent}{visit.route.name}: business unit {explanation.unit}'s own routes, tried before the root's"
    if not visit.checks:
        verdict = "matched (no matchers: matches everything)"
    elif visit.matched:
        verdict = "matched: " + "; ".join(_check(m, ok, explanation) for m, ok in visit.checks)
    else:
        failed = [(m, ok) for m, ok in visit.checks if not ok]
        verdict = "no match: " + "; ".join(_check(m, ok, explanation) for m, ok in failed)
    won = "  <- decides" if visit.route.path == explanation.decision.route else ""
    return f"{indent}{visit.route.name}: {verdict}{won}"


def _check(matcher: Matcher, ok: bool, explanation: Explanation) -> str:
    if isinstance(matcher, AnyWord):
        found = matcher.found(explanation.facts)
        return f"{_short(matcher)}: yes (found {', '.join(found)})" if ok else f"{_short(matcher)}: no (none found)"
    return f"{matcher.text}: {'yes' if ok else 'no'} ({matcher.field} is {_value(matcher.actual(explanation.facts))})"


def _value(actual: object) -> str:
    if actual is None:
        return "missing"
    if isinstance(actual, bool):
        return "true" if actual else "false"
    if isinstance(actual, str):
        shown = actual if len(actual) <= 60 else actual[:57] + "..."
        return '"' + shown.replace("\n", " ") + '"'
    return f"{actual:g}" if isinstance(actual, float) else str(actual)
