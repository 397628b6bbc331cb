"""The organisation layer: the hub's view, dandelion units with their own hubs and routes, and a model added by a class."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from router.classify.classifier import ForcedLabel
from router.classify.labels import LABELS, Classification
from router.errors import ConfigError
from router.mentions import Mention
from router.rules import Decision, RoutingConfig, load_config
from router.rules.orgmodels import REGISTRY, Delivery, OrgModel
from router.rules.render import render_explanation, render_tree

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

DANDELION = """\
org_model: dandelion
departments: {marketing: c.mkt, public_affairs: c.pa, customer_service: c.cs, sales: c.sales}
topics: {corporate_hub: c.hub}
business_units:
  hotel:
    hub: h.hub
    accounts: {twitter: [Hotel]}
    departments: {customer_service: h.cs}
    route:
      name: hotel
      priority: high
      routes:
        - name: hotel-vip
          match: ['author.verified = true']
          continue: true
          tags: [vip]
        - name: hotel-spa
          match: [words: [spa, massage]]
          owner: customer_service
  golf:
    accounts: {twitter: [Golf]}
    hub: g.hub
    departments: {sales: g.sales}
    route:
      name: golf
      routes:
        - name: golf-tee-times
          match: [words: [tee time]]
          owner: sales
route:
  name: root
  owner: marketing
  priority: low
  tags: [corporate]
  routes:
    - name: crisis
      match: ['label = pr_crisis']
      owner: public_affairs
      priority: urgent
    - name: fire
      match: [words: [fire]]
      owner: public_affairs
      escalate: true
    - name: complaint
      match: ['label = complaint']
      owner: customer_service
"""


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


# --- dandelion --------------------------------------------------------------------------------

@pytest.fixture
def dandelion(tmp_path) -> RoutingConfig:
    return write(tmp_path, DANDELION)


def test_a_units_crisis_reaches_its_own_hub_and_the_corporate_hub(dandelion):
    d = decide(dandelion, "pr_crisis", account="Hotel")
    assert (d.owner, d.queues, d.route) == ("public_affairs", ("c.pa", "h.hub", "c.hub"), ("root", "crisis"))


def test_a_units_escalation_reaches_its_own_hub_and_the_corporate_hub(dandelion):
    d = decide(dandelion, "other", account="Golf", text="There is a fire in the clubhouse")
    assert (d.owner, d.queues) == ("public_affairs", ("c.pa", "g.hub", "c.hub"))
    assert "crisis" in d.tags


def test_a_crisis_without_a_unit_reaches_the_corporate_hub_only(dandelion):
    assert decide(dandelion, "pr_crisis").queues == ("c.pa", "c.hub")


def test_a_units_routes_do_not_apply_to_another_unit(dandelion):
    golf = decide(dandelion, "other", account="Golf", text="Any tee time on Sunday?")
    assert (golf.owner, golf.queues, golf.route) == ("sales", ("g.sales",), ("root", "golf", "golf-tee-times"))
    hotel = decide(dandelion, "other", account="Hotel", text="Any tee time on Sunday?")
    assert (hotel.owner, hotel.queues, hotel.route) == ("marketing", ("c.mkt",), ("root",))
    corporate = decide(dandelion, "other", text="Any tee time on Sunday?")
    assert corporate.route == ("root",)


def test_unit_routes_inherit_the_corporate_roots_settings_unless_they_set_their_own(dandelion):
    tee = decide(dandelion, "other", account="Golf", text="tee time please")
    assert (tee.priority, tee.tags) == ("low", ("corporate", "unit:golf"))  # the corporate root's
    spa = decide(dandelion, "other", account="Hotel", text="Book me a massage")
    assert (spa.owner, spa.queues, spa.priority) == ("customer_service", ("h.cs",), "high")  # the hotel route's
    assert spa.tags == ("corporate", "unit:hotel")
    assert dandelion.model.unit_routes["hotel"].children[1].settings.tags == ("corporate",)


def test_the_corporate_routes_decide_what_no_unit_route_decides(dandelion):
    d = decide(dandelion, "complaint", account="Golf", text="The carts were not charged")
    assert (d.owner, d.route, d.priority) == ("customer_service", ("root", "complaint"), "low")


def test_a_units_continue_route_adds_to_the_corporate_decision(dandelion):
    d = decide(dandelion, "complaint", account="Hotel", text="Cold room", author={"verified": True})
    assert (d.owner, d.queues, d.route) == ("customer_service", ("h.cs",), ("root", "complaint"))
    assert (d.priority, d.tags) == ("high", ("vip", "corporate", "unit:hotel"))


def test_a_unit_route_without_match_takes_all_of_the_units_mentions_which_stay_crises(tmp_path):
    config = write(tmp_path, DANDELION.replace("          match: [words: [tee time]]\n", ""))
    d = decide(config, "pr_crisis", account="Golf")
    assert (d.owner, d.route, d.queues) == ("sales", ("root", "golf", "golf-tee-times"), ("g.sales", "g.hub", "c.hub"))
    assert "crisis" in d.tags
    assert decide(config, "pr_crisis", account="Hotel").route == ("root", "crisis")


def test_explain_says_the_units_routes_come_first(dandelion):
    explanation = dandelion.explain(mention(account="Golf", text="tee time"), classified("other"),
                                    low_confidence=False)
    lines = render_explanation(dandelion, explanation, None)
    visits = lines[lines.index("routes visited:") + 1:lines.index("decision:")]
    assert visits == [
        "  golf: business unit golf's own routes, tried before the root's",
        "    golf-tee-times: matched: words: tee time: yes (found tee time)  <- decides",
    ]


def test_the_tree_shows_each_units_routes_with_their_inherited_settings(dandelion):
    lines = render_tree(dandelion)
    start = lines.index("    routes, tried before the corporate routes:")
    assert lines[start + 1:start + 4] == [
        "      hotel  -> owner=marketing priority=high tags=corporate",
        "      ├── hotel-vip  [author.verified = true]  continue  -> owner=marketing priority=high tags=vip",
        "      └── hotel-spa  [words: spa, massage]  -> owner=customer_service priority=high tags=corporate",
    ]


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


@pytest.mark.parametrize("old, new, error", [
    ("      name: golf\n", "      name: golf\n      match: ['lang = fr']\n",
     '26: business unit "golf" route cannot have "match": it receives every mention of business unit "golf"'),
    ("      name: golf\n", "      name: golf\n      continue: true\n",
     '26: business unit "golf" route cannot have "continue": it receives every mention of business unit "golf"'),
    ("        - name: golf-tee-times\n          match: [words: [tee time]]\n          owner: sales\n", "        []\n",
     '25: business unit "golf" route needs routes: they are tried before the corporate routes; '
     "without any, leave the unit's route out"),
    ("name: golf-tee-times", "name: complaint", '27: duplicate route name "complaint" (first used at line 44)'),
    ("          owner: sales\n", "          owner: sale\n",
     '29: route "golf-tee-times" names unknown department "sale" '
     "(declared: customer_service, marketing, public_affairs, sales)"),
    ("    route:\n      name: golf\n      routes:\n        - name: golf-tee-times\n          match: [words: [tee time]]\n"
     "          owner: sales\n", "    route: golf\n",
     '24: business unit "golf" route must be a mapping of keys to values'),
    ("    route:\n      name: golf\n", "    routes:\n      name: golf\n",
     '24: business unit "golf" has unknown key "routes" (did you mean "route"?)'),
    ("          match: [words: [tee time]]\n          owner: sales\n",
     "          owner: sales\n        - name: golf-late\n          owner: sales\n",
     '29: route "golf-late" can never match: the earlier sibling "golf-tee-times" (line 27) has no matchers '
     "and no continue, so it catches everything first"),
])
def test_bad_unit_routes_are_refused(tmp_path, old, new, error):
    assert old in DANDELION
    assert error_of(tmp_path, DANDELION.replace(old, new)) == error


# --- a sixth model is one class ---------------------------------------------------------------

@pytest.fixture
def registered() -> Iterator[type[OrgModel]]:
    @dataclass(frozen=True)
    class OneInbox(OrgModel):
        """Every mention in one shared inbox, beside the owner's queue, tagged with its priority."""

        name = "one_inbox"
        topic_keys = ("inbox",)

        def deliver(self, d: Delivery) -> tuple[list[str], list[str]]:
            return [*self.spokes(d), self.own_topics["inbox"]], [f"priority:{d.priority}"]

    try:
        yield OneInbox
    finally:
        del REGISTRY["one_inbox"]


def test_a_model_registered_by_a_class_routes_mentions(tmp_path, registered):
    text = "org_model: one_inbox\nconfidence_threshold: 0.5\n" + DEPARTMENTS + "topics: {inbox: q.inbox}\n" + RULES
    config = write(tmp_path, text)
    assert isinstance(config.model, registered)
    never = ForcedLabel("other", 0.0, model=lambda: pytest.fail("the config's threshold applies"))
    ruling = config.route(mention(), classified("sales_lead"), classifier=never)
    assert not ruling.low_confidence
    assert ruling.decision.queues == ("q.sales", "q.inbox")
    assert ruling.decision.tags == ("priority:high",)
    assert config.topics() == {"q.mkt", "q.pa", "q.cs", "q.sales", "q.inbox"}
    assert render_tree(config)[1:3] == ["organisation:", "  inbox: q.inbox"]


def test_an_unregistered_model_is_refused(tmp_path):
    text = "org_model: one_inbox\n" + DEPARTMENTS + "topics: {inbox: q.inbox}\n" + RULES
    assert error_of(tmp_path, text) == (
        '1: unknown org_model "one_inbox" (expected one of: centralized, dandelion, decentralized, honeycomb, '
        "hub_and_spoke)")
