"""Hub and spoke: departments answer, a cross-functional hub coordinates and alone gets triage."""

from dataclasses import dataclass

from router.rules.orgmodels.base import Delivery, OrgModel, base_tags


@dataclass(frozen=True)
class HubAndSpoke(OrgModel):
    name = "hub_and_spoke"
    topic_keys = ("hub",)

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        tags = base_tags(d)
        hub = self.own_topics["hub"]
        if d.crisis:
            return [*self.spokes(d), hub], tags
        if d.low_confidence:
            return [hub], tags
        return self.spokes(d), tags
