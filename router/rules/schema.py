"""Strict loading of a routing config: every key known, every name declared, every error on its line."""

from dataclasses import dataclass, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.crisis.settings import CrisisSettings
from router.rules.businesshours import Calendar
from router.rules.calendarconfig import parse_calendar
from router.rules.crisis import parse_crisis
from router.rules.facts import ALL_FIELDS
from router.rules.matchers import Matcher, MatcherError, compile_matcher, compile_words
from router.rules.names import check_name, expect_topic
from router.rules.orgmodels import REGISTRY, SECTIONS, UNASSIGNED, OrgModel
from router.rules.servicelevel import Duration, check_fits, parse_duration
from router.rules.tree import PRIORITIES, Route, RouteSettings
from router.rules.yamltext import (
    YamlText,
    check_keys,
    describe,
    expect_list,
    expect_mapping,
    expect_strings,
    line_of,
    require_keys,
)

TOP_KEYS = ("org_model", "confidence_threshold", "careful_below", "departments", "topics", *SECTIONS, "calendar",
            "crisis", "route")
ROUTE_KEYS = ("name", "match", "owner", "priority", "copies", "tags", "escalate", "sticky", "respond_within",
              "continue", "routes")


@dataclass(frozen=True)
class Parsed:
    org_model: OrgModel
    confidence_threshold: float | None
    tree: Route
    calendar: Calendar | None = None
    crisis: CrisisSettings | None = None
    careful_below: float | None = None


def parse(src: YamlText) -> Parsed:
    doc = src.parse()
    if not isinstance(doc, CommentedMap):
        raise src.error(1, "the config must be a mapping with org_model, departments, topics and route")
    check_keys(src, doc, "the config", TOP_KEYS)
    require_keys(src, doc, "the config", ("org_model", "departments", "topics", "route"))
    model = _org_model(src, doc)
    departments = _departments(src, doc, model)
    topics = _topics(src, doc, model)
    _check_sections(src, doc, model)
    org = model(departments, topics, **model.parse_section(src, doc, departments))
    threshold = _fraction(src, doc, "confidence_threshold")
    calendar = parse_calendar(src, doc)
    builder = _TreeBuilder(src, set(departments), org.unit_names(), calendar)
    tree = builder.root(doc["route"], line_of(doc, "route"), model)
    nodes = model.unit_route_nodes(doc)
    units = {unit: builder.unit_root(node, line, tree, unit) for unit, (node, line) in nodes.items()}
    crisis = parse_crisis(src, doc, builder)
    return Parsed(replace(org, unit_routes=units) if units else org, threshold, tree, calendar, crisis,
                  _fraction(src, doc, "careful_below"))


def _org_model(src: YamlText, doc: CommentedMap) -> type[OrgModel]:
    value = doc["org_model"]
    # Read when a config loads, not at import, so that any registered model counts.
    if not isinstance(value, str) or value not in REGISTRY:
        raise src.error(line_of(doc, "org_model"),
                        f"unknown org_model {describe(value)} (expected one of: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[value]


def _check_sections(src: YamlText, doc: CommentedMap, model: type[OrgModel]) -> None:
    for key, owner in SECTIONS.items():
        if key in doc and owner is not model:
            raise src.error(line_of(doc, key), f"{key} is only used by org_model {owner.name}")


def _fraction(src: YamlText, doc: CommentedMap, key: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise src.error(line_of(doc, key), f"{key} must be a number between 0 and 1, got {describe(value)}")
    return float(value)


def _departments(src: YamlText, doc: CommentedMap, model: type[OrgModel]) -> dict[str, str | None]:
    node = expect_mapping(src, doc["departments"], line_of(doc, "departments"), "departments")
    if not node:
        raise src.error(line_of(doc, "departments"), "departments must declare at least one department")
    queues: dict[str, str | None] = {}
    for name, queue in node.items():
        line = line_of(node, name)
        check_name(src, name, line, "department")
        if name == UNASSIGNED:
            raise src.error(line, f'"{UNASSIGNED}" is reserved for what no rule owns; it cannot be a department')
        if queue is None and model.queues_optional:
            queues[name] = None
            continue
        if queue is None:
            raise src.error(line, f'department "{name}" needs a queue topic in org_model {model.name}')
        queues[name] = expect_topic(src, queue, line)
    return queues


def _topics(src: YamlText, doc: CommentedMap, model: type[OrgModel]) -> dict[str, str]:
    node = expect_mapping(src, doc["topics"], line_of(doc, "topics"), "topics")
    needed = model.topic_keys
    for key in node:
        if key not in needed:
            raise src.error(line_of(node, key), f'topics has key "{key}", which org_model {model.name} does not '
                                                f'use (it uses: {", ".join(needed)})')
    for key in needed:
        if key not in node:
            raise src.error(line_of(doc, "topics"), f'org_model {model.name} needs topics.{key}')
    return {key: expect_topic(src, node[key], line_of(node, key)) for key in needed}


class _TreeBuilder:
    """Compiles the `route:` tree, checking names, departments, matchers and reachability."""

    def __init__(self, src: YamlText, departments: set[str], units: tuple[str, ...] | None,
                 calendar: Calendar | None = None):
        self.src = src
        self.departments = departments
        self.units = units
        self.calendar = calendar
        self.names: dict[str, int] = {}

    def root(self, node: Any, line: int, model: type[OrgModel]) -> Route:
        node = expect_mapping(self.src, node, line, "route")
        self.whole(node, "the root route", "every mention")
        route = self.route(node, RouteSettings(), ())
        if route.settings.owner is None and not model.leaves_unassigned:
            unassigning = ", ".join(name for name, cls in REGISTRY.items() if cls.leaves_unassigned)
            raise self.src.error(line_of(node), "the root route needs an owner: in org_model "
                                 f"{model.name} every mention has one (only {unassigning} leaves mentions unassigned)")
        return route

    def unit_root(self, node: Any, line: int, tree: Route, unit: str) -> Route:
        """A unit's own routes: a subtree under the root, inheriting its settings, tried before its children."""
        subject = f'business unit "{unit}" route'
        node = expect_mapping(self.src, node, line, subject)
        self.whole(node, subject, f'every mention of business unit "{unit}"')
        if not node.get("routes"):
            raise self.src.error(line_of(node), f"{subject} needs routes: they are tried before the corporate "
                                                "routes; without any, leave the unit's route out")
        return self.route(node, tree.settings, (tree.name,))

    def whole(self, node: CommentedMap, subject: str, receives: str) -> None:
        """A tree's top receives all it is given: it cannot match or continue."""
        for key in ("match", "continue"):
            if key in node:
                raise self.src.error(line_of(node, key), f'{subject} cannot have "{key}": it receives {receives}')

    def route(self, node: CommentedMap, parent: RouteSettings, parent_path: tuple[str, ...]) -> Route:
        name = self.name(node)
        subject = f'route "{name}"'
        check_keys(self.src, node, subject, ROUTE_KEYS)
        settings = RouteSettings(
            owner=self.department(node, "owner", subject) if "owner" in node else parent.owner,
            priority=self.priority(node, subject) if "priority" in node else parent.priority,
            copies=self.copies(node, subject) if "copies" in node else parent.copies,
            tags=self.tags(node, subject) if "tags" in node else parent.tags,
            escalate=self.flag(node, "escalate", subject) if "escalate" in node else parent.escalate,
            sticky=self.flag(node, "sticky", subject) if "sticky" in node else parent.sticky,
            respond_within=self.respond_within(node, subject) if "respond_within" in node else parent.respond_within,
        )
        path = (*parent_path, name)
        matchers = self.matchers(node, subject)
        cont = self.flag(node, "continue", subject) if "continue" in node else False
        return Route(name, path, line_of(node), matchers, settings, cont, self.children(node, settings, path, subject))

    def name(self, node: CommentedMap) -> str:
        if "name" not in node:
            raise self.src.error(line_of(node), 'route has no name: every route needs a unique "name"')
        line = line_of(node, "name")
        name = node["name"]
        check_name(self.src, name, line, "route")
        if name in self.names:
            raise self.src.error(line, f'duplicate route name "{name}" (first used at line {self.names[name]})')
        self.names[name] = line
        return name

    def children(self, node, settings, path, subject) -> tuple[Route, ...]:
        if "routes" not in node:
            return ()
        items = expect_list(self.src, node["routes"], line_of(node, "routes"), f"{subject} routes")
        children: list[Route] = []
        for index, item in enumerate(items):
            line = line_of(items, index)
            child_node = expect_mapping(self.src, item, line, f"each of {subject} routes")
            catch_all = next((c for c in children if not c.matchers and not c.cont), None)
            if catch_all is not None:
                raise self.src.error(line_of(child_node), f'route "{self.name(child_node)}" can never match: the '
                                     f'earlier sibling "{catch_all.name}" (line {catch_all.line}) has no matchers '
                                     'and no continue, so it catches everything first')
            children.append(self.route(child_node, settings, path))
        return tuple(children)

    def matchers(self, node: CommentedMap, subject: str) -> tuple[Matcher, ...]:
        if "match" not in node:
            return ()
        items = expect_list(self.src, node["match"], line_of(node, "match"), f"{subject} match")
        return tuple(self.matcher(item, line_of(items, i), subject) for i, item in enumerate(items))

    def matcher(self, item: Any, line: int, subject: str) -> Matcher:
        try:
            if isinstance(item, CommentedMap) and list(item) == ["words"]:
                words = expect_strings(self.src, item["words"], line, "words")
                return compile_words([w for w, _ in words])
            if isinstance(item, str):
                return compile_matcher(item, self.units, has_calendar=self.calendar is not None)
        except MatcherError as error:
            raise self.src.error(line, f"{subject} has an invalid matcher '{_flat(item)}': {error}") from None
        if isinstance(item, CommentedMap) and len(item) == 1 and next(iter(item)) in ALL_FIELDS:
            field, value = next(iter(item.items()))
            shown = ",".join(map(str, value)) if isinstance(value, CommentedSeq) else describe(value)
            raise self.src.error(line, f"{subject} has a matcher written as a mapping: write it as a string, "
                                       f"such as '{field} = {shown}'")
        raise self.src.error(line, f'{subject} has a matcher that is neither a string such as \'label = "complaint"\' '
                                   f"nor a mapping `words: [...]`: got {describe(item)}")

    def department(self, node, key, subject) -> str:
        value = node[key]
        if value not in self.departments:
            raise self.src.error(line_of(node, key), f"{subject} names unknown department {describe(value)} "
                                                     f"(declared: {', '.join(sorted(self.departments))})")
        return value

    def copies(self, node, subject) -> tuple[str, ...]:
        names = expect_strings(self.src, node["copies"], line_of(node, "copies"), f"{subject} copies")
        for name, line in names:
            if name not in self.departments:
                raise self.src.error(line, f'{subject} copies unknown department "{name}" '
                                           f"(declared: {', '.join(sorted(self.departments))})")
        return tuple(dict.fromkeys(n for n, _ in names))

    def tags(self, node, subject) -> tuple[str, ...]:
        tags = expect_strings(self.src, node["tags"], line_of(node, "tags"), f"{subject} tags")
        return tuple(dict.fromkeys(tag for tag, _ in tags))

    def priority(self, node, subject) -> str:
        value = node["priority"]
        if value not in PRIORITIES:
            raise self.src.error(line_of(node, "priority"), f"{subject} has unknown priority {describe(value)} "
                                                            f"(expected one of: {', '.join(PRIORITIES)})")
        return value

    def respond_within(self, node, subject) -> Duration:
        line = line_of(node, "respond_within")
        try:
            duration = parse_duration(node["respond_within"])
            if self.calendar is not None:
                check_fits(duration, self.calendar)
        except ValueError as error:
            raise self.src.error(line, f"{subject}: respond_within {error}") from None
        return duration

    def flag(self, node, key, subject) -> bool:
        value = node[key]
        if not isinstance(value, bool):
            raise self.src.error(line_of(node, key), f"{subject}: {key} must be true or false, got {describe(value)}")
        return value


def _flat(item: Any) -> str:
    if isinstance(item, CommentedMap):
        return ", ".join(f"{k}: {list(v) if isinstance(v, CommentedSeq) else v}" for k, v in item.items())
    return str(item)
