"""A compiled routing config and the decision it makes for one classified mention."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, overload

from router.classify.classifier import Classifier
from router.classify.labels import CRISIS_LABEL, Classification
from router.conversations import Conversation
from router.crisis.settings import CrisisSettings, Incident
from router.mentions.model import Mention
from router.rules.businesshours import Calendar
from router.rules.facts import Facts
from router.rules.orgmodels import UNASSIGNED, Delivery, OrgModel
from router.rules.schema import parse
from router.rules.servicelevel import ServiceLevel
from router.rules.tree import PRIORITIES, Route, RuleResult, Visit, combine, matching, unit_first, walk
from router.rules.yamltext import YamlText, read_yaml_text

# Decisions are memoised by what they depend on; a config has far fewer such keys, the bound only caps memory.
MAX_CACHED_DECISIONS = 4096


@dataclass(frozen=True)
class Decision:
    """Who owns a mention and where it goes; `route` is the path of the route that won.

    `due_by` (UTC) is when an answer is due, from the mention's own created_at; None without `respond_within`.
    """

    owner: str
    queues: tuple[str, ...]
    priority: str
    copies: tuple[str, ...]
    tags: tuple[str, ...]
    route: tuple[str, ...]
    due_by: datetime | None = None
    thread_owner: bool = False  # the owner is the one the mention's thread keeps, not the rules' choice
    seeds_thread: bool = False  # a thread without an owner takes this one: a sticky route's owner, not triaged
    crisis: bool = False  # the label or a route made it a crisis (an incident's override does not)
    incident: str | None = None  # the open incident whose scope the mention belongs to; its override applied

    def as_dict(self) -> dict:
        """The decision's fields as a decision document gives them; its lists are shared, not to be changed."""
        return {**self._routes_fields(), "due_by": self.due_by.isoformat() if self.due_by is not None else None}

    def _routes_fields(self) -> dict:
        # Memoised decisions serve every mention of their routes: their fields are written out once. (Kept in the
        # instance's own dict, which `dated` copies: a dated decision has the same fields, and due_by apart.)
        fields = self.__dict__.get("_fields")
        if fields is None:
            fields = self.__dict__["_fields"] = {
                "owner": self.owner, "queues": list(self.queues), "priority": self.priority,
                "copies": list(self.copies), "tags": list(self.tags), "route": list(self.route)}
        return fields

    def dated(self, due_by: datetime) -> "Decision":
        """This decision with a deadline; a memoised decision is shared by every mention of its routes."""
        # dataclasses.replace costs more than the deadline itself: the fields are copied as they are.
        dated = object.__new__(Decision)
        dated.__dict__.update(self.__dict__, due_by=due_by)
        return dated

    def in_incident(self, incident: str) -> "Decision":
        """This decision (made with the crisis override) in one incident: one memoised decision serves them all."""
        copy = object.__new__(Decision)
        copy.__dict__.update(self.__dict__, incident=incident)
        return copy


class Ruling(NamedTuple):
    """A mention's decision, and whether its label was too unsure to trust (then the mention is triaged)."""

    decision: Decision
    low_confidence: bool


@dataclass(frozen=True)
class Explanation:
    """A decision with everything that led to it; `explain` renders it."""

    decision: Decision
    result: RuleResult
    classification: Classification
    low_confidence: bool
    unit: str | None
    crisis: bool
    visits: tuple[Visit, ...]
    facts: Facts
    thread: str | None = None  # the thread's owner, and whether it was kept or why not; None without one
    service_level: ServiceLevel | None = None
    incident: Incident | None = None  # the open incident the mention was routed in, its override applied


class RoutingConfig:
    """An immutable, compiled config: `decide` reads no file and parses nothing."""

    __slots__ = ("path", "hash", "org_model", "confidence_threshold", "tree", "model", "calendar", "crisis",
                 "careful_below", "_decisions")
    path: Path
    hash: str
    org_model: str
    confidence_threshold: float | None
    tree: Route
    model: OrgModel
    calendar: Calendar | None
    crisis: CrisisSettings | None  # the `crisis:` section; None without one
    careful_below: float | None  # a fast label less confident than this takes the careful stage; None: none does
    _decisions: dict[tuple, tuple[Decision, ServiceLevel | None]]

    def __init__(self, path: Path, digest: str, model: OrgModel, threshold: float | None, tree: Route,
                 calendar: Calendar | None = None, crisis: CrisisSettings | None = None,
                 careful_below: float | None = None):
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "hash", digest)
        object.__setattr__(self, "org_model", model.name)
        object.__setattr__(self, "confidence_threshold", threshold)
        object.__setattr__(self, "tree", tree)
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "calendar", calendar)
        object.__setattr__(self, "crisis", crisis)
        object.__setattr__(self, "careful_below", careful_below)
        object.__setattr__(self, "_decisions", {})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RoutingConfig is immutable; load a new one instead")

    def __repr__(self) -> str:
        return f"RoutingConfig(path={str(self.path)!r}, hash={self.hash!r}, org_model={self.org_model!r})"

    def threshold(self, classifier: Classifier) -> float:
        """Below this confidence a label is a guess: the config's threshold wins, else the classifier's own."""
        configured = self.confidence_threshold
        return classifier.threshold if configured is None else configured

    @overload
    def route(self, mention: Mention, classification: Classification, *, classifier: Classifier,
              low_confidence: bool | None = None, trace: None = None,
              thread: Conversation | None = None, incident: Incident | None = None) -> Ruling: ...

    @overload
    def route(self, mention: Mention, classification: Classification, *, classifier: Classifier,
              low_confidence: bool | None = None, trace: list[Visit],
              thread: Conversation | None = None, incident: Incident | None = None) -> Explanation: ...

    def route(self, mention: Mention, classification: Classification, *, classifier: Classifier,
              low_confidence: bool | None = None, trace: list[Visit] | None = None,
              thread: Conversation | None = None, incident: Incident | None = None) -> Ruling | Explanation:
        """The one way a classified mention is routed, by the worker, the replay, `explain`, rule tests and `classify`.

        `classifier` made the classification; its threshold counts only when the config has none, so it is read
        only then. A rule test may force `low_confidence`. With a `trace`, every route visited is recorded in
        it and the whole explanation is returned. `thread` is what the conversation state holds for the
        mention's thread: a reply keeps the owner it names, unless its route says `sticky: false` or it is
        a crisis. `incident` is the open incident whose scope the mention belongs to (the crisis detector
        says which): the decision carries its id and the `crisis:` section's override applies.
        """
        if low_confidence is None:  # a doubted label (unknown language, no text) is a guess at any confidence
            low_confidence = classification.doubt is not None or classification.confidence < self.threshold(classifier)
        owner = thread_owner(thread, mention)
        if trace is not None:
            return self._route(mention, classification, low_confidence, trace, owner, incident)
        decision = self.decide(mention, classification, low_confidence=low_confidence, thread_owner=owner,
                               incident=incident)
        return Ruling(decision, low_confidence)

    def decide(self, mention: Mention, classification: Classification, *, low_confidence: bool,
               thread_owner: str | None = None, incident: Incident | None = None) -> Decision:
        unit = self.model.unit_of(mention)
        facts = Facts(mention, classification, low_confidence, unit, self.calendar)
        own = self.model.own_routes(unit)
        matched = tuple(matching(self.tree, facts) if own is None else unit_first(own, self.tree, facts))
        # Past the matching, a decision depends only on these: the same key, the same decision (but its due_by).
        # The thread's owner is part of the key: a reply that keeps it is decided differently from one that does not.
        # The override depends on there being an incident, not on which: the incident's id is added after.
        key = (matched, classification.label, low_confidence, unit if self.model.delivers_by_unit else None,
               thread_owner, incident is not None)
        cached = self._decisions.get(key)
        if cached is None:
            if len(self._decisions) >= MAX_CACHED_DECISIONS:
                self._decisions.clear()
            decision, _, _, _, level = self._decide(list(matched), classification.label, low_confidence, unit,
                                                    thread_owner, incident is not None)
            cached = self._decisions[key] = (decision, level)
        return _in_incident(_with_due_by(*cached, mention), incident)

    def explain(self, mention: Mention, classification: Classification, *, low_confidence: bool,
                thread_owner: str | None = None, incident: Incident | None = None) -> Explanation:
        """The decision of `decide` plus every route visited and how each of its matchers fared."""
        return self._route(mention, classification, low_confidence, [], thread_owner, incident)

    def topics(self) -> set[str]:
        return self.model.topics()

    def _route(self, mention, classification, low_confidence, trace, owner, incident=None) -> Explanation:
        unit = self.model.unit_of(mention)
        facts = Facts(mention, classification, low_confidence, unit, self.calendar)
        own = self.model.own_routes(unit)
        matched = walk(self.tree, facts, trace) if own is None else unit_first(own, self.tree, facts, trace)
        decision, result, crisis, thread, level = self._decide(matched, classification.label, low_confidence, unit,
                                                               owner, incident is not None)
        return Explanation(_in_incident(_with_due_by(decision, level, mention), incident), result, classification,
                           low_confidence, unit, crisis, tuple(trace or ()), facts, thread, level, incident)

    def _decide(self, matched: list[Route], label: str, low_confidence: bool, unit: str | None,
                thread_owner: str | None,
                in_incident: bool = False) -> tuple[Decision, RuleResult, bool, str | None, ServiceLevel | None]:
        result = combine(matched)
        # A crisis is never held back for triage: a false alarm costs less than a missed scandal.
        crisis = label == CRISIS_LABEL or result.escalate
        sticky = matched[-1].settings.sticky
        kept, thread = self._keeps(thread_owner, result, sticky, crisis, matched[-1].name)
        owner = thread_owner if kept else result.owner
        ruled = self._overridden(result) if in_incident else result
        copies = tuple(copy for copy in ruled.copies if copy != owner)
        # A reply that keeps its thread's owner is not triaged: its owner is known, whatever its label.
        triage = low_confidence and not kept
        delivered_crisis = crisis or ruled.escalate
        queues, model_tags = self.model.deliver(Delivery(owner, copies, delivered_crisis, triage, label, unit,
                                                         ruled.priority))
        decision = Decision(
            owner=owner or UNASSIGNED,
            queues=tuple(dict.fromkeys(queues)),
            priority=ruled.priority,
            copies=copies,
            tags=tuple(dict.fromkeys([*ruled.tags, *model_tags])),
            route=result.route,
            thread_owner=kept,
            seeds_thread=sticky and result.owner is not None and not (low_confidence and not crisis),
            crisis=crisis,
        )
        return decision, result, crisis, thread, self._service_level(matched, delivered_crisis)

    def _overridden(self, result: RuleResult) -> RuleResult:
        """The rules' result with the crisis override on top: the owner stays, the rest is added or raised."""
        if self.crisis is None:
            return result
        override = self.crisis.override
        priority = result.priority
        if override.priority is not None and PRIORITIES.index(override.priority) > PRIORITIES.index(priority):
            priority = override.priority
        return replace(result, priority=priority, copies=tuple(dict.fromkeys([*result.copies, *override.copies])),
                       tags=tuple(dict.fromkeys([*result.tags, *override.tags])),
                       escalate=result.escalate or override.escalate)

    def _keeps(self, owner: str | None, result: RuleResult, sticky: bool, crisis: bool,
               route: str) -> tuple[bool, str | None]:
        """Whether a reply keeps its thread's `owner`, and why, in words for `explain`."""
        if owner is None:
            return False, None
        if crisis:
            return False, f"{owner}, not kept: a crisis is routed by the rules"
        if not sticky:
            return False, f'{owner}, not kept: route "{route}" has sticky: false'
        if owner not in self.model.queues:
            return False, f"{owner}, not kept: not a department of this config"
        return True, f"{owner}, kept (the rules alone would choose {result.owner or UNASSIGNED})"

    def _service_level(self, matched: list[Route], crisis: bool) -> ServiceLevel | None:
        within = tuple(dict.fromkeys(r.settings.respond_within for r in matched
                                     if r.settings.respond_within is not None))
        # A crisis's clock runs around the clock: a scandal does not wait for Monday morning.
        return ServiceLevel(within, None if crisis else self.calendar) if within else None


def thread_owner(thread: Conversation | None, mention: Mention) -> str | None:
    """The owner a mention's thread offers it: none without a thread, none to the mention that gave it its owner."""
    if thread is None or mention.thread_id is None or thread.owner_mention == mention.id:
        return None
    return thread.owner


def _with_due_by(decision: Decision, level: ServiceLevel | None, mention: Mention) -> Decision:
    """The decision with the due_by of its service level, counted from when the mention was made."""
    due = level.due(mention.created_at) if level is not None else None
    return decision.dated(due[0]) if due is not None else decision


def _in_incident(decision: Decision, incident: Incident | None) -> Decision:
    return decision if incident is None else decision.in_incident(incident.id)


def load_config(path: str | Path) -> RoutingConfig:
    """Read, check and compile a config file; raises ConfigError("FILE:LINE: ...")."""
    return compile_text(read_yaml_text(path))


def compile_text(src: YamlText) -> RoutingConfig:
    parsed = parse(src)
    return RoutingConfig(src.path, config_hash(src.data), parsed.org_model, parsed.confidence_threshold, parsed.tree,
                         parsed.calendar, parsed.crisis, parsed.careful_below)


def config_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]
