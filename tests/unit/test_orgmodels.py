"""The organisation layer: what the hub of a hub-and-spoke organisation sees."""

import pytest

from router.classify.labels import LABELS, Classification
from router.errors import ConfigError
from router.mentions import Mention
from router.rules import Decision, RoutingConfig, load_config

DEPARTMENTS = "departments: {marketing: q.mkt, public_affairs: q.pa, customer_service: q.cs, sales: q.sales}\n"
RULES = """\
route:
  name: root
  owner: marketing
  routes:
    - name: crisis
      match: ['label = pr_crisis']
      owner: public_affairs
      priority: urgent
    - name: complaint
      match: ['label = complaint']
      owner: customer_service
    - name: lead
      match: ['label = sales_lead']
      owner: sales
      priority: high
"""
DECENTRALIZED = "org_model: decentralized\n" + DEPARTMENTS + "topics: {unassigned: q.none}\n" + RULES
HUB_AND_SPOKE = "org_model: hub_and_spoke\n" + DEPARTMENTS + "topics: {hub: q.hub}\n" + RULES

def write(tmp_path, text: str, name: str = "c.yaml") -> RoutingConfig:
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


def mention(**fields) -> Mention:
    base = {"id": "m-1", "source": "twitter", "text": "hello", "created_at": "2026-11-20T10:00:00Z"}
    return Mention.model_validate({**base, **fields})


def classified(label: str, confidence: float = 0.9) -> Classification:
    return Classification.forced(label, confidence)


def decide(config: RoutingConfig, label: str, low: bool = False, **fields) -> Decision:
    decision = config.decide(mention(**fields), classified(label), low_confidence=low)
    # The traced walk `explain` takes must reach the same decision as the fast one.
    assert config.explain(mention(**fields), classified(label), low_confidence=low).decision == decision
    return decision


# --- hub and spoke ---------------------------------------------------------------------------

def test_with_the_same_rules_the_hub_sees_what_decentralized_departments_alone_see(tmp_path):
    decentralized = write(tmp_path, DECENTRALIZED, "d.yaml")
    hub = write(tmp_path, HUB_AND_SPOKE, "h.yaml")
    for label in LABELS:
        alone = decide(decentralized, label)
        coordinated = decide(hub, label)
        assert coordinated.owner == alone.owner
        assert coordinated.queues == (*alone.queues, "q.hub"), label


def test_low_confidence_goes_to_the_hub_alone_whatever_the_hub_sees(tmp_path):
    for sees in ("all", "[crisis]", "[high_priority]"):
        config = write(tmp_path, HUB_AND_SPOKE + f"hub: {{sees: {sees}}}\n")
        assert decide(config, "complaint", low=True).queues == ("q.hub",), sees
        assert decide(config, "pr_crisis", low=True).queues == ("q.pa", "q.hub"), sees  # a crisis is never triaged


@pytest.mark.parametrize("sees, label, queues", [
    ("[crisis]", "complaint", ("q.cs",)),
    ("[crisis]", "sales_lead", ("q.sales",)),
    ("[crisis]", "pr_crisis", ("q.pa", "q.hub")),
    ("[high_priority]", "complaint", ("q.cs",)),
    ("[high_priority]", "sales_lead", ("q.sales", "q.hub")),
    ("[high_priority]", "pr_crisis", ("q.pa", "q.hub")),  # urgent is above high
    ("[crisis, high_priority]", "sales_lead", ("q.sales", "q.hub")),
    ("all", "complaint", ("q.cs", "q.hub")),
])
def test_a_hub_narrowed_to_exceptions_sees_only_those(tmp_path, sees, label, queues):
    config = write(tmp_path, HUB_AND_SPOKE + f"hub:\n  sees: {sees}\n")
    assert decide(config, label).queues == queues


def test_a_narrowed_hub_misses_a_crisis_it_was_not_told_to_see(tmp_path):
    text = HUB_AND_SPOKE.replace("      priority: urgent\n", "") + "hub: {sees: [high_priority]}\n"
    assert decide(write(tmp_path, text), "pr_crisis").queues == ("q.pa",)


# --- settings refused, with file and line -----------------------------------------------------

def error_of(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


SEES = '"all" or a list of: crisis, high_priority'


@pytest.mark.parametrize("section, error", [
    ("hub:\n  sees: everything\n", f'20: hub sees must be {SEES}, got "everything"'),
    ("hub:\n  sees: []\n", f"20: hub sees must be {SEES}, got a list"),
    ("hub:\n  sees: [crisis,\n    urgent]\n", f'21: hub sees has unknown item "urgent" (expected {SEES})'),
    ("hub:\n  sees: [low_confidence]\n",
     '20: hub sees cannot list "low_confidence": a low-confidence mention always goes to the hub alone, for triage'),
    ("hub:\n  see: all\n", '20: hub has unknown key "see" (did you mean "sees"?)'),
    ("hub: all\n", "19: hub must be a mapping of keys to values"),
])
def test_bad_hub_settings_are_refused(tmp_path, section, error):
    assert error_of(tmp_path, HUB_AND_SPOKE + section) == error


def test_a_hub_section_belongs_to_hub_and_spoke_only(tmp_path):
    assert error_of(tmp_path, DECENTRALIZED + "hub: {sees: all}\n") == "19: hub is only used by org_model hub_and_spoke"
