"""What every organisation model shares: department queues, its own topics, and how it is found by name."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ruamel.yaml.comments import CommentedMap

from router.mentions.model import Mention
from router.rules.tree import Route
from router.rules.yamltext import YamlText

UNASSIGNED = "unassigned"
# Every model class, by the name a config gives in `org_model:`; a class registers itself when defined.
REGISTRY: dict[str, type["OrgModel"]] = {}
_NO_QUEUES: Mapping[str, str] = {}


@dataclass(frozen=True)
class Delivery:
    """A rule result as the org model sees it."""

    owner: str | None
    copies: tuple[str, ...]
    crisis: bool
    low_confidence: bool
    label: str
    unit: str | None
    priority: str


@dataclass(frozen=True)
class OrgModel:
    """Turns an owner into topics; one instance per loaded config, immutable.

    A model is one subclass in its own module of this package: it sets `name` and `topic_keys` and implements
    `deliver`. The rest is optional: its own config `section` (`parse_section`), business units (`unit_of`,
    `unit_names`, `unit_route_nodes`), and what `check-config --tree` shows of it (`outline`).
    """

    name: ClassVar[str]
    topic_keys: ClassVar[tuple[str, ...]]  # the topics the model needs under `topics:`, and nothing else
    section: ClassVar[str | None] = None  # a top-level config key that only this model reads
    queues_optional: ClassVar[bool] = False  # departments may be declared without a queue
    leaves_unassigned: ClassVar[bool] = False  # the root route may have no owner
    delivers_by_unit: ClassVar[bool] = False  # the topics depend on the business unit, not just the owner

    queues: dict[str, str | None]  # department -> its queue (None where queues are optional)
    own_topics: dict[str, str]  # topic key (one of topic_keys) -> topic
    # A business unit's own routes, tried before the corporate tree for its mentions (the schema compiles them).
    unit_routes: Mapping[str, Route] = field(default_factory=dict, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            REGISTRY[cls.name] = cls

    @classmethod
    def parse_section(cls, src: YamlText, doc: CommentedMap, departments: Mapping[str, str | None]) -> dict[str, Any]:
        """The model's own fields from its config section, checked; none by default."""
        return {}

    @classmethod
    def unit_route_nodes(cls, doc: CommentedMap) -> dict[str, tuple[Any, int]]:
        """Each unit's own `route:` node in the (checked) config, with its line, for the schema to compile."""
        return {}

    def unit_of(self, mention: Mention) -> str | None:
        """The business unit the rules see."""
        return mention.business_unit

    def own_routes(self, unit: str | None) -> Route | None:
        """The unit's own routes, tried before the corporate tree, if it has some."""
        return self.unit_routes.get(unit) if unit else None

    def unit_names(self) -> tuple[str, ...] | None:
        """The declared business units, when a model declares them (matchers check against them)."""
        return None

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        """The topics to deliver to, and the tags the model adds."""
        raise NotImplementedError

    def topics(self) -> set[str]:
        """Every topic this model may deliver to."""
        return {q for q in self.queues.values() if q} | set(self.own_topics.values())

    def outline(self, render_routes: Callable[[Route], list[str]]) -> list[str]:
        """The organisation layer for `check-config --tree`, one fact a line; by default the model's own topics."""
        return [f"{key}: {topic}" for key, topic in self.own_topics.items()]

    def spokes(self, d: Delivery, unit_queues: Mapping[str, str] = _NO_QUEUES) -> list[str]:
        """The owner's and the copies' queues; what no rule owns goes to `unassigned`."""
        names = [d.owner, *d.copies] if d.owner else list(d.copies)
        spokes = [unit_queues[name] if name in unit_queues else self.queues[name] or "" for name in names]
        return spokes if d.owner else [self.own_topics.get(UNASSIGNED, ""), *spokes]


def base_tags(d: Delivery) -> list[str]:
    """The tags every model adds: crisis, and triage for low confidence."""
    tags = ["crisis"] if d.crisis else []
    if d.low_confidence:
        tags.append("triage")
    return tags
