"""The five Altimeter organisation models: where the owner's work is delivered, as Kafka topics."""

from dataclasses import dataclass, field

from router.mentions.model import Mention

ORG_MODELS = ("centralized", "dandelion", "decentralized", "honeycomb", "hub_and_spoke")
# The topics each model needs under `topics:`, and nothing else.
MODEL_TOPICS = {
    "decentralized": ("unassigned",),
    "centralized": ("central",),
    "hub_and_spoke": ("hub",),
    "dandelion": ("corporate_hub",),
    "honeycomb": ("shared_stream",),
}
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class Unit:
    """A business unit of a dandelion organisation: its hub and the spokes it staffs itself."""

    name: str
    hub: str
    queues: dict[str, str]


@dataclass(frozen=True)
class Delivery:
    """A rule outcome as the org model sees it."""

    owner: str | None
    copies: tuple[str, ...]
    crisis: bool
    low_confidence: bool
    label: str
    unit: str | None


@dataclass(frozen=True)
class OrgModel:
    """Turns an owner into topics; one instance per loaded config, immutable."""

    name: str
    queues: dict[str, str | None]  # department -> its queue (None in centralized)
    topics: dict[str, str]
    units: dict[str, Unit] = field(default_factory=dict)
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, account) -> unit
    reserved_labels: frozenset[str] = frozenset()
    reserved_departments: frozenset[str] = frozenset()

    def unit_of(self, mention: Mention) -> str | None:
        """The business unit: from the account, page or location addressed, else the mention's own field."""
        if self.name != "dandelion":
            return mention.business_unit
        if mention.account is not None:
            unit = self.accounts.get((mention.source, account_key(mention.account)))
            if unit is not None:
                return unit
        return mention.business_unit if mention.business_unit in self.units else None

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        """The topics to deliver to, and the tags the model adds."""
        tags = ["crisis"] if d.crisis else []
        if d.low_confidence:
            tags.append("triage")
        return getattr(self, f"_{self.name}")(d, tags), tags

    def all_topics(self) -> set[str]:
        if self.name == "centralized":
            return {self.topics["central"]}
        found = {q for q in self.queues.values() if q} | set(self.topics.values())
        for unit in self.units.values():
            found |= {unit.hub, *unit.queues.values()}
        return found

    def _spokes(self, d: Delivery, unit: Unit | None = None) -> list[str]:
        names = [d.owner, *d.copies] if d.owner else list(d.copies)
        spokes = [self._queue(name, unit) for name in names]
        return spokes if d.owner else [self.topics.get(UNASSIGNED, ""), *spokes]

    def _queue(self, department: str, unit: Unit | None) -> str:
        if unit is not None and department in unit.queues:
            return unit.queues[department]
        return self.queues[department] or ""

    def _decentralized(self, d: Delivery, tags: list[str]) -> list[str]:
        # No one coordinates: each department gets its own, what no rule owns waits in `unassigned`.
        return self._spokes(d)

    def _centralized(self, d: Delivery, tags: list[str]) -> list[str]:
        tags.extend([f"owner:{d.owner}", *(f"copy:{c}" for c in d.copies)])
        return [self.topics["central"]]

    def _hub_and_spoke(self, d: Delivery, tags: list[str]) -> list[str]:
        hub = self.topics["hub"]
        if d.crisis:
            return [*self._spokes(d), hub]
        if d.low_confidence:
            return [hub]
        return self._spokes(d)

    def _dandelion(self, d: Delivery, tags: list[str]) -> list[str]:
        unit = self.units.get(d.unit) if d.unit else None
        if unit is not None:
            tags.append(f"unit:{unit.name}")
        if d.crisis:
            return [*self._spokes(d, unit), self.topics["corporate_hub"]]
        if d.low_confidence:
            return [unit.hub if unit else self.topics["corporate_hub"]]
        return self._spokes(d, unit)

    def _honeycomb(self, d: Delivery, tags: list[str]) -> list[str]:
        spokes = self._spokes(d)
        reserved = (
            d.crisis
            or d.label in self.reserved_labels
            or not self.reserved_departments.isdisjoint([d.owner, *d.copies])
        )
        if reserved:
            tags.append("reserved")
            return spokes
        return [*spokes, self.topics["shared_stream"]]


def account_key(account: str) -> str:
    """Handles are case-insensitive and often written with a leading @."""
    return account.strip().lstrip("@").casefold()
