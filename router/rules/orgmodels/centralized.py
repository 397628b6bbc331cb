"""Centralized: one central social team answers everything, told which owner the rules chose."""

from dataclasses import dataclass

from router.rules.orgmodels.base import Delivery, OrgModel, base_tags


@dataclass(frozen=True)
class Centralized(OrgModel):
    name = "centralized"
    topic_keys = ("central",)
    queues_optional = True  # the central team answers everything; department queues are optional

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        tags = base_tags(d)
        tags.extend([f"owner:{d.owner}", *(f"copy:{c}" for c in d.copies)])
        return [self.own_topics["central"]], tags

    def topics(self) -> set[str]:
        return {self.own_topics["central"]}
