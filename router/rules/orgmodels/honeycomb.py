"""Honeycomb (holistic): every employee may answer from a shared stream, under a social media policy."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.classify.labels import CRISIS_LABEL, LABELS
from router.rules.orgmodels.base import Delivery, OrgModel, base_tags
from router.rules.tree import Route
from router.rules.yamltext import YamlText, check_keys, expect_mapping, expect_strings, line_of

POLICY_KEYS = ("reserved_labels", "reserved_departments")


@dataclass(frozen=True)
class Honeycomb(OrgModel):
    name = "honeycomb"
    topic_keys = ("shared_stream",)
    section = "policy"

    # What the policy holds back from the shared stream for the official spokespeople.
    reserved_labels: frozenset[str] = frozenset()
    reserved_departments: frozenset[str] = frozenset()

    @classmethod
    def parse_section(cls, src: YamlText, doc: CommentedMap, departments: Mapping[str, str | None]) -> dict[str, Any]:
        node = doc.get("policy")
        if node is None:
            return {"reserved_labels": frozenset({CRISIS_LABEL})}
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
                raise src.error(line, f'policy reserves unknown department "{name}" '
                                      f'(declared: {", ".join(departments)})')
        return {"reserved_labels": frozenset(label for label, _ in labels),
                "reserved_departments": frozenset(name for name, _ in names)}

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        tags = base_tags(d)
        spokes = self.spokes(d)
        reserved = (
            d.crisis
            or d.label in self.reserved_labels
            or not self.reserved_departments.isdisjoint([d.owner, *d.copies])
        )
        if reserved:
            tags.append("reserved")
            return spokes, tags
        return [*spokes, self.own_topics["shared_stream"]], tags

    def outline(self, render_routes: Callable[[Route], list[str]]) -> list[str]:
        labels = ", ".join(sorted(self.reserved_labels)) or "-"
        departments = ", ".join(sorted(self.reserved_departments)) or "-"
        return [f"shared stream: {self.own_topics['shared_stream']} (every employee may answer)",
                f"policy: reserved labels {labels}; reserved departments {departments} "
                "(these and crises: their departments only, never the shared stream)"]
