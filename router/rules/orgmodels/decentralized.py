"""Decentralized ("organic"): each department answers on its own; what no rule owns waits in `unassigned`."""

from dataclasses import dataclass

from router.rules.orgmodels.base import UNASSIGNED, Delivery, OrgModel, base_tags


@dataclass(frozen=True)
class Decentralized(OrgModel):
    name = "decentralized"
    topic_keys = (UNASSIGNED,)
    leaves_unassigned = True

    def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
        # No one coordinates: each department gets its own.
        return self.spokes(d), base_tags(d)
