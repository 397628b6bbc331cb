"""Hub and spoke: departments answer, a cross-functional hub coordinates them all and alone gets triage."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.rules.orgmodels.base import Delivery, OrgModel, base_tags
from router.rules.tree import PRIORITIES, Route
from router.rules.yamltext import YamlText, check_keys, describe, expect_mapping, expect_strings, line_of

ALL = "all"
# What a hub may be narrowed to see, beside the spokes that own it.
EXCEPTIONS = ("crisis", "high_priority")
HIGH_PRIORITIES = PRIORITIES[PRIORITIES.index("high"):]


@dataclass(frozen=True)
class HubAndSpoke(OrgModel):
    name = "hub_and_spoke"
    topic_keys = ("hub",)
    section = "hub"

    # What the hub sees beside the spokes; None: every mention, as a hub that "coordinates all actions" does.
    sees: frozenset[str] | None = None

    @classmethod
    def parse_section(cls, src: YamlText, doc: CommentedMap, departments: Mapping[str, str | None]) -> dict[str, Any]:
        node = doc.get("hub")
        if node is None:
            return {}
        node = expect_mapping(src, node, line_of(doc, "hub"), "hub")
        check_keys(src, node, "hub", ("sees",))
        value = node.get("sees", ALL)
        if value == ALL:
            return {}
        line = line_of(node, "sees")
        expected = f'"{ALL}" or a list of: {", ".join(EXCEPTIONS)}'
        if not isinstance(value, CommentedSeq) or not value:
            raise src.error(line, f"hub sees must be {expected}, got {describe(value)}")
        for item, item_line in expect_strings(src, value, line, "hub sees"):
            if item == "low_confidence":
                raise src.error(item_line, 'hub sees cannot list "low_confidence": a low-confidence mention always '
                                           "goes to the hub alone, for triage")
            if item not in EXCEPTIONS:
                raise src.error(item_line, f'hub sees has unknown item "{item}" (expected {expected})')
        return {"sees": frozenset(value)}

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        tags = base_tags(d)
        hub = self.own_topics["hub"]
        if d.low_confidence and not d.crisis:
            return [hub], tags
        return [*self.spokes(d), hub] if self.hub_sees(d) else self.spokes(d), tags

    def hub_sees(self, d: Delivery) -> bool:
        """Whether the hub gets a copy of a mention its spokes answer."""
        if self.sees is None:
            return True
        return ("crisis" in self.sees and d.crisis) or ("high_priority" in self.sees and d.priority in HIGH_PRIORITIES)

    def outline(self, render_routes: Callable[[Route], list[str]]) -> list[str]:
        seen = ALL if self.sees is None else ", ".join(item for item in EXCEPTIONS if item in self.sees)
        return [f"hub: {self.own_topics['hub']}   sees: {seen} (beside the spokes; triage: the hub alone)"]
