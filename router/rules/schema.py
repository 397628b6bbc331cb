"""Strict loading of a routing config: every key known, every name declared, every error on its line."""

from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.classify.labels import LABELS
from router.rules.matchers import Matcher, MatcherError, compile_matcher, compile_words
from router.rules.orgmodels import MODEL_TOPICS, ORG_MODELS, UNASSIGNED, OrgModel, Unit, account_key
from router.rules.source import (
    Source,
    check_keys,
    describe,
    expect_list,
    expect_mapping,
    expect_strings,
    line_of,
    require_keys,
)
from router.rules.tree import PRIORITIES, Route, Settings

TOP_KEYS = ("org_model", "confidence_threshold", "departments", "topics", "business_units", "policy", "route")
ROUTE_KEYS = ("name", "match", "owner", "priority", "copies", "tags", "escalate", "continue", "routes")
UNIT_KEYS = ("hub", "accounts", "departments")
POLICY_KEYS = ("reserved_labels", "reserved_departments")
SOURCES = ("twitter", "tripadvisor", "facebook")
_TOPIC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class Parsed:
    org_model: OrgModel
    confidence_threshold: float | None
    tree: Route


def parse(src: Source) -> Parsed:
    doc = src.parse()
    if not isinstance(doc, CommentedMap):
        raise src.error(1, "the config must be a mapping with org_model, departments, topics and route")
    check_keys(src, doc, "the config", TOP_KEYS)
    require_keys(src, doc, "the config", ("org_model", "departments", "topics", "route"))
    model = _org_model_name(src, doc)
    departments = _departments(src, doc, model)
    topics = _topics(src, doc, model)
    units, accounts = _units(src, doc, model, departments)
    reserved_labels, reserved_departments = _policy(src, doc, model, departments)
    org = OrgModel(model, departments, topics, units, accounts, reserved_labels, reserved_departments)
    threshold = _threshold(src, doc)
    builder = _TreeBuilder(src, set(departments), tuple(units) if model == "dandelion" else None)
    tree = builder.root(doc["route"], line_of(doc, "route"), model)
    return Parsed(org, threshold, tree)


def _org_model_name(src: Source, doc: CommentedMap) -> str:
    value = doc["org_model"]
    if value not in ORG_MODELS:
        raise src.error(line_of(doc, "org_model"),
                        f"unknown org_model {describe(value)} (expected one of: {', '.join(ORG_MODELS)})")
    return value


def _threshold(src: Source, doc: CommentedMap) -> float | None:
    value = doc.get("confidence_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise src.error(line_of(doc, "confidence_threshold"),
                        f"confidence_threshold must be a number between 0 and 1, got {describe(value)}")
    return float(value)


def _departments(src: Source, doc: CommentedMap, model: str) -> dict[str, str | None]:
    node = expect_mapping(src, doc["departments"], line_of(doc, "departments"), "departments")
    if not node:
        raise src.error(line_of(doc, "departments"), "departments must declare at least one department")
    queues: dict[str, str | None] = {}
    for name, queue in node.items():
        line = line_of(node, name)
        _check_name(src, name, line, "department")
        if name == UNASSIGNED:
            raise src.error(line, f'"{UNASSIGNED}" is reserved for what no rule owns; it cannot be a department')
        if queue is None and model == "centralized":
            queues[name] = None  # the central team answers everything; department queues are optional
            continue
        if queue is None:
            raise src.error(line, f'department "{name}" needs a queue topic in org_model {model}')
        queues[name] = _topic(src, queue, line)
    return queues


def _topics(src: Source, doc: CommentedMap, model: str) -> dict[str, str]:
    node = expect_mapping(src, doc["topics"], line_of(doc, "topics"), "topics")
    needed = MODEL_TOPICS[model]
    for key in node:
        if key not in needed:
            raise src.error(line_of(node, key), f'topics has key "{key}", which org_model {model} does not use '
                                                f'(it uses: {", ".join(needed)})')
    for key in needed:
        if key not in node:
            raise src.error(line_of(doc, "topics"), f'org_model {model} needs topics.{key}')
    return {key: _topic(src, node[key], line_of(node, key)) for key in needed}


def _units(src, doc, model, departments) -> tuple[dict[str, Unit], dict[tuple[str, str], str]]:
    if model != "dandelion":
        if "business_units" in doc:
            raise src.error(line_of(doc, "business_units"), "business_units is only used by org_model dandelion")
        return {}, {}
    if "business_units" not in doc:
        raise src.error(line_of(doc), "org_model dandelion needs business_units, each with its hub")
    node = expect_mapping(src, doc["business_units"], line_of(doc, "business_units"), "business_units")
    units: dict[str, Unit] = {}
    accounts: dict[tuple[str, str], tuple[str, int]] = {}
    for name, spec in node.items():
        line = line_of(node, name)
        _check_name(src, name, line, "business unit")
        spec = expect_mapping(src, spec, line, f'business unit "{name}"')
        check_keys(src, spec, f'business unit "{name}"', UNIT_KEYS)
        require_keys(src, spec, f'business unit "{name}"', ("hub",))
        hub = _topic(src, spec["hub"], line_of(spec, "hub"))
        units[name] = Unit(name, hub, _unit_queues(src, spec, name, departments))
        _unit_accounts(src, spec, name, accounts)
    return units, {key: unit for key, (unit, _) in accounts.items()}


def _unit_queues(src, spec, unit, departments) -> dict[str, str]:
    if "departments" not in spec:
        return {}
    node = expect_mapping(src, spec["departments"], line_of(spec, "departments"), f'business unit "{unit}" departments')
    queues = {}
    for name, queue in node.items():
        line = line_of(node, name)
        if name not in departments:
            raise src.error(line, f'business unit "{unit}" names unknown department "{name}" '
                                  f'(declared: {", ".join(departments)})')
        queues[name] = _topic(src, queue, line)
    return queues


def _unit_accounts(src, spec, unit, seen: dict[tuple[str, str], tuple[str, int]]) -> None:
    if "accounts" not in spec:
        return
    node = expect_mapping(src, spec["accounts"], line_of(spec, "accounts"), f'business unit "{unit}" accounts')
    check_keys(src, node, f'business unit "{unit}" accounts', SOURCES)
    for source, listed in node.items():
        for account, line in expect_strings(src, listed, line_of(node, source), f"accounts.{source}"):
            key = (source, account_key(account))
            if key in seen:
                owner, first = seen[key]
                raise src.error(line, f'{source} account "{account}" already belongs to business unit "{owner}" '
                                      f"(line {first})")
            seen[key] = (unit, line)


def _policy(src, doc, model, departments) -> tuple[frozenset[str], frozenset[str]]:
    if model != "honeycomb":
        if "policy" in doc:
            raise src.error(line_of(doc, "policy"), "policy is only used by org_model honeycomb")
        return frozenset(), frozenset()
    node = doc.get("policy")
    if node is None:
        return frozenset({"pr_crisis"}), frozenset()
    node = expect_mapping(src, node, line_of(doc, "policy"), "policy")
    check_keys(src, node, "policy", POLICY_KEYS)
    labels = expect_strings(src, node.get("reserved_labels", CommentedSeq()), line_of(node, "reserved_labels"),
                            "reserved_labels")
    for label, line in labels:
        if label not in LABELS:
            raise src.error(line, f'policy reserves unknown label "{label}" (known: {", ".join(LABELS)})')
    names = expect_strings(src, node.get("reserved_departments", CommentedSeq()),
                           line_of(node, "reserved_departments"), "reserved_departments")
    for name, line in names:
        if name not in departments:
            raise src.error(line, f'policy reserves unknown department "{name}" (declared: {", ".join(departments)})')
    return frozenset(label for label, _ in labels), frozenset(name for name, _ in names)


def _topic(src: Source, value: Any, line: int) -> str:
    ok = (isinstance(value, str) and 0 < len(value) <= 249 and value not in (".", "..")
          and all(ch in _TOPIC_CHARS for ch in value))
    if not ok:
        raise src.error(line, f"invalid Kafka topic name {describe(value)}: "
                              'use 1 to 249 letters, digits, ".", "_" or "-"')
    return value


def _check_name(src: Source, name: Any, line: int, what: str) -> None:
    if not isinstance(name, str) or not name or not all(ch in _NAME_CHARS for ch in name):
        raise src.error(line, f'invalid {what} name {describe(name)}: use letters, digits, "_", "-" or "."')


class _TreeBuilder:
    """Compiles the `route:` tree, checking names, departments, matchers and reachability."""

    def __init__(self, src: Source, departments: set[str], units: tuple[str, ...] | None):
        self.src = src
        self.departments = departments
        self.units = units
        self.names: dict[str, int] = {}

    def root(self, node: Any, line: int, model: str) -> Route:
        node = expect_mapping(self.src, node, line, "route")
        for key in ("match", "continue"):
            if key in node:
                raise self.src.error(line_of(node, key),
                                     f'the root route cannot have "{key}": it receives every mention')
        route = self.route(node, Settings(), ())
        if route.settings.owner is None and model != "decentralized":
            raise self.src.error(line_of(node), "the root route needs an owner: in org_model "
                                 f"{model} every mention has one (only decentralized leaves mentions unassigned)")
        return route

    def route(self, node: CommentedMap, parent: Settings, parent_path: tuple[str, ...]) -> Route:
        name = self.name(node)
        subject = f'route "{name}"'
        check_keys(self.src, node, subject, ROUTE_KEYS)
        settings = Settings(
            owner=self.department(node, "owner", subject) if "owner" in node else parent.owner,
            priority=self.priority(node, subject) if "priority" in node else parent.priority,
            copies=self.copies(node, subject) if "copies" in node else parent.copies,
            tags=self.tags(node, subject) if "tags" in node else parent.tags,
            escalate=self.flag(node, "escalate", subject) if "escalate" in node else parent.escalate,
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
        _check_name(self.src, name, line, "route")
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
                return compile_matcher(item, self.units)
        except MatcherError as error:
            raise self.src.error(line, f"{subject} has an invalid matcher '{_flat(item)}': {error}") from None
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

    def flag(self, node, key, subject) -> bool:
        value = node[key]
        if not isinstance(value, bool):
            raise self.src.error(line_of(node, key), f"{subject}: {key} must be true or false, got {describe(value)}")
        return value


def _flat(item: Any) -> str:
    if isinstance(item, CommentedMap):
        return ", ".join(f"{k}: {list(v) if isinstance(v, CommentedSeq) else v}" for k, v in item.items())
    return str(item)
