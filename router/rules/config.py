"""A compiled routing config and the decision it makes for one classified mention."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, overload

from router.classify.classifier import Classifier
from router.classify.labels import CRISIS_LABEL, Classification
from router.mentions.model import Mention
from router.rules.facts import Facts
from router.rules.orgmodels import UNASSIGNED, Delivery, OrgModel
from router.rules.schema import parse
from router.rules.tree import Route, RuleResult, Visit, combine, matching, unit_first, walk
from router.rules.yamltext import YamlText, read_yaml_text

# Decisions are memoised by what they depend on; a config has far fewer such keys, the bound only caps memory.
MAX_CACHED_DECISIONS = 4096


@dataclass(frozen=True)
class Decision:
    """Who owns a mention and where it goes; `route` is the path of the route that won."""

    owner: str
    queues: tuple[str, ...]
    priority: str
    copies: tuple[str, ...]
    tags: tuple[str, ...]
    route: tuple[str, ...]

    def as_dict(self) -> dict:
        # Spelled out: dataclasses.asdict deep-copies every field, which costs more than routing a mention.
        return {"owner": self.owner, "queues": list(self.queues), "priority": self.priority,
                "copies": list(self.copies), "tags": list(self.tags), "route": list(self.route)}


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


class RoutingConfig:
    """An immutable, compiled config: `decide` reads no file and parses nothing."""

    __slots__ = ("path", "hash", "org_model", "confidence_threshold", "tree", "model", "_decisions")
    path: Path
    hash: str
    org_model: str
    confidence_threshold: float | None
    tree: Route
    model: OrgModel
    _decisions: dict[tuple, Decision]

    def __init__(self, path: Path, digest: str, model: OrgModel, threshold: float | None, tree: Route):
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "hash", digest)
        object.__setattr__(self, "org_model", model.name)
        object.__setattr__(self, "confidence_threshold", threshold)
        object.__setattr__(self, "tree", tree)
        object.__setattr__(self, "model", model)
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
              low_confidence: bool | None = None, trace: None = None) -> Ruling: ...

    @overload
    def route(self, mention: Mention, classification: Classification, *, classifier: Classifier,
              low_confidence: bool | None = None, trace: list[Visit]) -> Explanation: ...

    def route(self, mention: Mention, classification: Classification, *, classifier: Classifier,
              low_confidence: bool | None = None, trace: list[Visit] | None = None) -> Ruling | Explanation:
        """The one way a classified mention is routed, by the worker, the replay, `explain`, rule tests and `classify`.

        `classifier` made the classification; its threshold counts only when the config has none, so it is read
        only then. A rule test may force `low_confidence`. With a `trace`, every route visited is recorded in
        it and the whole explanation is returned.
        """
        if low_confidence is None:  # a doubted label (unknown language, no text) is a guess at any confidence
            low_confidence = classification.doubt is not None or classification.confidence < self.threshold(classifier)
        if trace is not None:
            return self._route(mention, classification, low_confidence, trace)
        return Ruling(self.decide(mention, classification, low_confidence=low_confidence), low_confidence)

    def decide(self, mention: Mention, classification: Classification, *, low_confidence: bool) -> Decision:
        unit = self.model.unit_of(mention)
        facts = Facts(mention, classification, low_confidence, unit)
        own = self.model.own_routes(unit)
        matched = tuple(matching(self.tree, facts) if own is None else unit_first(own, self.tree, facts))
        # Past the matching, a decision depends only on these: the same key, the same decision.
        key = (matched, classification.label, low_confidence, unit if self.model.delivers_by_unit else None)
        decision = self._decisions.get(key)
        if decision is None:
            if len(self._decisions) >= MAX_CACHED_DECISIONS:
                self._decisions.clear()
            decision = self._decide(list(matched), classification.label, low_confidence, unit)[0]
            self._decisions[key] = decision
        return decision

    def explain(self, mention: Mention, classification: Classification, *, low_confidence: bool) -> Explanation:
        """The decision of `decide` plus every route visited and how each of its matchers fared."""
        return self._route(mention, classification, low_confidence, [])

    def topics(self) -> set[str]:
        return self.model.topics()

    def _route(self, mention, classification, low_confidence, trace) -> Explanation:
        unit = self.model.unit_of(mention)
        facts = Facts(mention, classification, low_confidence, unit)
        own = self.model.own_routes(unit)
        matched = walk(self.tree, facts, trace) if own is None else unit_first(own, self.tree, facts, trace)
        decision, result, crisis = self._decide(matched, classification.label, low_confidence, unit)
        return Explanation(decision, result, classification, low_confidence, unit, crisis, tuple(trace or ()), facts)

    def _decide(self, matched: list[Route], label: str, low_confidence: bool,
                unit: str | None) -> tuple[Decision, RuleResult, bool]:
        result = combine(matched)
        # A crisis is never held back for triage: a false alarm costs less than a missed scandal.
        crisis = label == CRISIS_LABEL or result.escalate
        queues, model_tags = self.model.deliver(Delivery(result.owner, result.copies, crisis, low_confidence, label,
                                                         unit, result.priority))
        decision = Decision(
            owner=result.owner or UNASSIGNED,
            queues=tuple(dict.fromkeys(queues)),
            priority=result.priority,
            copies=result.copies,
            tags=tuple(dict.fromkeys([*result.tags, *model_tags])),
            route=result.route,
        )
        return decision, result, crisis


def load_config(path: str | Path) -> RoutingConfig:
    """Read, check and compile a config file; raises ConfigError("FILE:LINE: ...")."""
    return compile_text(read_yaml_text(path))


def compile_text(src: YamlText) -> RoutingConfig:
    parsed = parse(src)
    return RoutingConfig(src.path, config_hash(src.data), parsed.org_model, parsed.confidence_threshold, parsed.tree)


def config_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]
