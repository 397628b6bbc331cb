"""Dandelion (multiple hub and spoke): each business unit runs its own hub and spokes, a corporate hub above."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from router.mentions.model import SOURCES, Mention
from router.rules.names import check_name, expect_topic
from router.rules.orgmodels.base import Delivery, OrgModel, base_tags
from router.rules.tree import Route
from router.rules.yamltext import YamlText, check_keys, expect_mapping, expect_strings, line_of, require_keys

UNIT_KEYS = ("hub", "accounts", "departments", "route")


@dataclass(frozen=True)
class Unit:
    """A business unit of a dandelion organisation: its hub and the spokes it staffs itself."""

    name: str
    hub: str
    queues: dict[str, str]
    accounts: tuple[tuple[str, str], ...] = ()  # (source, account) as the config writes them


@dataclass(frozen=True)
class Dandelion(OrgModel):
    name = "dandelion"
    topic_keys = ("corporate_hub",)
    section = "business_units"
    delivers_by_unit = True

    units: dict[str, Unit] = field(default_factory=dict)
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, account) -> unit

    @classmethod
    def parse_section(cls, src: YamlText, doc: CommentedMap, departments: Mapping[str, str | None]) -> dict[str, Any]:
        if "business_units" not in doc:
            raise src.error(line_of(doc), "org_model dandelion needs business_units, each with its hub")
        node = expect_mapping(src, doc["business_units"], line_of(doc, "business_units"), "business_units")
        units: dict[str, Unit] = {}
        accounts: dict[tuple[str, str], tuple[str, int]] = {}
        for name, spec in node.items():
            line = line_of(node, name)
            check_name(src, name, line, "business unit")
            spec = expect_mapping(src, spec, line, f'business unit "{name}"')
            check_keys(src, spec, f'business unit "{name}"', UNIT_KEYS)
            require_keys(src, spec, f'business unit "{name}"', ("hub",))
            hub = expect_topic(src, spec["hub"], line_of(spec, "hub"))
            listed = read_accounts(src, spec["accounts"], line_of(spec, "accounts"), f'business unit "{name}"',
                                   accounts) if "accounts" in spec else ()
            units[name] = Unit(name, hub, _unit_queues(src, spec, name, departments), listed)
        owners = {(source, account_key(account)): unit.name for unit in units.values()
                  for source, account in unit.accounts}
        return {"units": units, "accounts": owners}

    @classmethod
    def unit_route_nodes(cls, doc: CommentedMap) -> dict[str, tuple[Any, int]]:
        units = doc["business_units"]
        return {name: (spec["route"], line_of(spec, "route")) for name, spec in units.items() if "route" in spec}

    def unit_of(self, mention: Mention) -> str | None:
        """From the account, page or location addressed, else the mention's own field if it names a unit."""
        if mention.account is not None:
            unit = self.accounts.get((mention.source, account_key(mention.account)))
            if unit is not None:
                return unit
        return mention.business_unit if mention.business_unit in self.units else None

    def unit_names(self) -> tuple[str, ...]:
        return tuple(self.units)

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        tags = base_tags(d)
        unit = self.units.get(d.unit) if d.unit else None
        if unit is not None:
            tags.append(f"unit:{unit.name}")
        corporate = self.own_topics["corporate_hub"]
        if d.crisis:  # a label pr_crisis or an escalation: the unit's hub coordinates it, the corporate hub watches
            return [*self.spokes(d, unit.queues if unit else {}), *([unit.hub] if unit else []), corporate], tags
        if d.low_confidence:
            return [unit.hub if unit else corporate], tags
        return self.spokes(d, unit.queues if unit else {}), tags

    def topics(self) -> set[str]:
        found = super().topics()
        for unit in self.units.values():
            found |= {unit.hub, *unit.queues.values()}
        return found

    def outline(self, render_routes: Callable[[Route], list[str]]) -> list[str]:
        lines = [f"corporate hub: {self.own_topics['corporate_hub']} (every crisis; triage of mentions without a unit)"]
        for unit in self.units.values():
            lines.append(f"business unit {unit.name}: hub {unit.hub} (its triage and crises)")
            accounts = ", ".join(f"{source} {account}" for source, account in unit.accounts)
            lines.append(f"  accounts: {accounts or '-'}")
            spokes = ", ".join(f"{name} {queue}" for name, queue in unit.queues.items())
            lines.append(f"  spokes: {spokes or '-'} (other departments: the corporate queues)")
            own = self.own_routes(unit.name)
            if own is not None:
                lines.append("  routes, tried before the corporate routes:")
                lines += ["    " + line for line in render_routes(own)]
        return lines


def account_key(account: str) -> str:
    """Handles are case-insensitive and often written with a leading @."""
    return account.strip().lstrip("@").casefold()


def _unit_queues(src: YamlText, spec: CommentedMap, unit: str, departments: Mapping[str, str | None]) -> dict[str, str]:
    if "departments" not in spec:
        return {}
    node = expect_mapping(src, spec["departments"], line_of(spec, "departments"), f'business unit "{unit}" departments')
    queues = {}
    for name, queue in node.items():
        line = line_of(node, name)
        if name not in departments:
            raise src.error(line, f'business unit "{unit}" names unknown department "{name}" '
                                  f'(declared: {", ".join(departments)})')
        queues[name] = expect_topic(src, queue, line)
    return queues


def read_accounts(src: YamlText, node: object, line: int, owner: str,
                  seen: dict[tuple[str, str], tuple[str, int]]) -> tuple[tuple[str, str], ...]:
    """`source: [accounts]` of `owner` (a business unit, a brand); an account that `seen` already gave is an error."""
    found: list[tuple[str, str]] = []
    node = expect_mapping(src, node, line, f"{owner} accounts")
    check_keys(src, node, f"{owner} accounts", SOURCES)
    for source, listed in node.items():
        for account, item_line in expect_strings(src, listed, line_of(node, source), f"accounts.{source}"):
            key = (source, account_key(account))
            if key in seen:
                first_owner, first = seen[key]
                raise src.error(item_line, f'{source} account "{account}" already belongs to {first_owner} '
                                           f"(line {first})")
            seen[key] = (owner, item_line)
            found.append((source, account))
    return tuple(found)
