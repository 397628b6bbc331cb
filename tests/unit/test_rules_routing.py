"""Routing decisions: tree semantics, and table-driven cases for each of the five org models."""

import hashlib
from pathlib import Path

import pytest

from router.classify.labels import LABELS, Classification
from router.mentions import Mention
from router.rules import Decision, RoutingConfig, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "config" / "examples"


def mention(**fields) -> Mention:
    base = {"id": "m-1", "source": "twitter", "text": "hello", "created_at": "2026-11-20T10:00:00Z"}
    return Mention.model_validate({**base, **fields})


def classified(label: str, confidence: float = 0.9) -> Classification:
    rest = (1 - confidence) / (len(LABELS) - 1)
    return Classification(label, confidence, {name: confidence if name == label else rest for name in LABELS})


def decide(config: RoutingConfig, label: str, confidence: float = 0.9, low: bool = False, **fields) -> Decision:
    return config.decide(mention(**fields), classified(label, confidence), low_confidence=low)


@pytest.fixture(scope="module")
def examples() -> dict[str, RoutingConfig]:
    return {path.stem: load_config(path) for path in EXAMPLES.glob("*.yaml") if not path.name.endswith(".tests.yaml")}


def write(tmp_path, text: str) -> RoutingConfig:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path)


TREE = """\
org_model: decentralized
departments: {marketing: q.m, sales: q.s, legal: q.l, customer_service: q.cs, public_affairs: q.pa}
topics: {unassigned: q.none}
route:
  name: root
  priority: low
  tags: [root-tag]
  routes:
    - name: vip
      match: ['author.followers >= 1000']
      continue: true
      priority: high
      copies: [public_affairs]
      tags: [vip]
    - name: complaint
      match: ['label = complaint']
      owner: customer_service
      routes:
        - name: complaint-fr
          match: ['lang = fr']
          copies: [legal]
        - name: complaint-urgent
          match: ['rating <= 1']
          priority: urgent
    - name: sales
      match: ['label = sales_lead']
      owner: sales
      copies: [customer_service]
"""


# --- tree semantics --------------------------------------------------------------------------

def test_children_inherit_their_parents_settings(tmp_path):
    d = decide(write(tmp_path, TREE), "complaint", lang="fr")
    assert (d.owner, d.priority, d.copies, d.tags, d.route) == (
        "customer_service", "low", ("legal",), ("root-tag",), ("root", "complaint", "complaint-fr"))


def test_the_parent_applies_when_no_child_matches(tmp_path):
    d = decide(write(tmp_path, TREE), "complaint", lang="en")
    assert (d.owner, d.route) == ("customer_service", ("root", "complaint"))


def test_the_first_matching_sibling_wins(tmp_path):
    d = decide(write(tmp_path, TREE), "complaint", lang="fr", rating=1)
    assert d.route == ("root", "complaint", "complaint-fr")
    assert d.priority == "low"


def test_continue_adds_priority_copies_and_tags_but_not_the_owner(tmp_path):
    d = decide(write(tmp_path, TREE), "sales_lead", author={"followers": 5000})
    assert d.owner == "sales"
    assert d.priority == "high"
    assert d.copies == ("public_affairs", "customer_service")
    assert d.tags == ("vip", "root-tag")  # vip's own tags, then the winner's (inherited from root)
    assert d.route == ("root", "sales")


def test_a_continue_route_alone_decides_with_its_own_settings(tmp_path):
    d = decide(write(tmp_path, TREE), "other", author={"followers": 5000})
    assert (d.owner, d.priority, d.route) == ("unassigned", "high", ("root", "vip"))


def test_what_no_rule_owns_is_unassigned_in_decentralized(tmp_path):
    d = decide(write(tmp_path, TREE), "other")
    assert d == Decision("unassigned", ("q.none",), "low", (), ("root-tag",), ("root",))


def test_the_owner_is_never_its_own_copy(tmp_path):
    text = TREE.replace("copies: [customer_service]", "copies: [customer_service, sales]")
    assert decide(write(tmp_path, text), "sales_lead").copies == ("customer_service",)


def test_hash_and_topics(tmp_path):
    config = write(tmp_path, TREE)
    digest = hashlib.sha256((tmp_path / "c.yaml").read_bytes()).hexdigest()[:12]
    assert config.hash == f"sha256:{digest}"
    assert config.topics() == {"q.m", "q.s", "q.l", "q.cs", "q.pa", "q.none"}
    assert config.confidence_threshold is None


def test_config_is_immutable(tmp_path):
    config = write(tmp_path, TREE)
    with pytest.raises(AttributeError):
        config.org_model = "centralized"


def test_decision_as_dict(tmp_path):
    assert decide(write(tmp_path, TREE), "complaint", lang="fr").as_dict() == {
        "owner": "customer_service", "queues": ["q.cs", "q.l"], "priority": "low", "copies": ["legal"],
        "tags": ["root-tag"], "route": ["root", "complaint", "complaint-fr"], "due_by": None,
    }


def test_explain_lists_visits_and_skips(tmp_path):
    config = write(tmp_path, TREE)
    explanation = config.explain(mention(lang="fr"), classified("complaint"), low_confidence=False)
    visited = [(v.route.name, v.matched, v.skipped_by) for v in explanation.visits]
    assert visited == [
        ("root", True, None), ("vip", False, None), ("complaint", True, None),
        ("complaint-fr", True, None), ("complaint-urgent", False, "complaint-fr"), ("sales", False, "complaint"),
    ]
    assert explanation.decision == config.decide(mention(lang="fr"), classified("complaint"), low_confidence=False)


# --- the five org models, table-driven over the shipped examples -----------------------------

HOTEL = {"account": "ChateauLaurentides"}
CASES = [
    # model, label, confidence, low, mention fields, owner, queues, priority
    ("decentralized", "complaint", 0.9, False, {}, "customer_service", ["brewery.customer_service"], "normal"),
    ("decentralized", "other", 0.9, False, {}, "unassigned", ["brewery.unassigned"], "normal"),
    ("decentralized", "pr_crisis", 0.9, False, {}, "marketing", ["brewery.marketing", "brewery.legal"], "urgent"),
    ("decentralized", "complaint", 0.2, True, {}, "customer_service", ["brewery.customer_service"], "normal"),
    ("centralized", "complaint", 0.9, False, {}, "customer_service", ["airline.social-team"], "normal"),
    ("centralized", "pr_crisis", 0.9, False, {}, "public_affairs", ["airline.social-team"], "urgent"),
    ("centralized", "other", 0.9, False, {"text": "flight delayed"}, "customer_service", ["airline.social-team"], "high"),
    ("centralized", "recruitment", 0.2, True, {}, "human_resources", ["airline.social-team"], "normal"),
    ("hub_and_spoke", "complaint", 0.9, False, {}, "customer_service", ["juice.consumer-care", "juice.social-hub"],
     "normal"),
    ("hub_and_spoke", "complaint", 0.2, True, {}, "customer_service", ["juice.social-hub"], "normal"),
    ("hub_and_spoke", "pr_crisis", 0.9, False, {}, "public_affairs",
     ["juice.public-affairs", "juice.legal", "juice.social-hub"], "urgent"),
    ("hub_and_spoke", "pr_crisis", 0.2, True, {}, "public_affairs",
     ["juice.public-affairs", "juice.legal", "juice.social-hub"], "urgent"),
    ("hub_and_spoke", "other", 0.9, False, {}, "marketing", ["juice.marketing", "juice.social-hub"], "normal"),
    ("dandelion", "complaint", 0.9, False, HOTEL, "customer_service", ["laurentides.hotel.front-desk"], "normal"),
    ("dandelion", "complaint", 0.9, False, {"business_unit": "restaurant"}, "customer_service",
     ["laurentides.restaurant.guest-relations"], "normal"),
    ("dandelion", "complaint", 0.9, False, {"business_unit": "spa"}, "customer_service",
     ["laurentides.customer-service"], "normal"),
    ("dandelion", "complaint", 0.2, True, HOTEL, "customer_service", ["laurentides.hotel.hub"], "normal"),
    ("dandelion", "complaint", 0.2, True, {}, "customer_service", ["laurentides.corporate-hub"], "normal"),
    ("dandelion", "pr_crisis", 0.9, False, HOTEL, "public_affairs",
     ["laurentides.public-affairs", "laurentides.legal", "laurentides.hotel.hub", "laurentides.corporate-hub"],
     "urgent"),
    ("dandelion", "recruitment", 0.9, False, HOTEL, "human_resources", ["laurentides.hr"], "normal"),
    ("honeycomb", "complaint", 0.9, False, {}, "customer_service", ["acme.support", "acme.social-all-hands"], "normal"),
    ("honeycomb", "pr_crisis", 0.9, False, {}, "public_affairs", ["acme.public-affairs", "acme.legal"], "urgent"),
    ("honeycomb", "other", 0.9, False, {"text": "GDPR question"}, "legal", ["acme.legal"], "high"),
    ("honeycomb", "sales_lead", 0.2, True, {}, "sales", ["acme.sales", "acme.social-all-hands"], "normal"),
]


@pytest.mark.parametrize("model, label, confidence, low, fields, owner, queues, priority", CASES)
def test_org_model_delivery(examples, model, label, confidence, low, fields, owner, queues, priority):
    d = decide(examples[model], label, confidence, low, **fields)
    assert (d.owner, list(d.queues), d.priority) == (owner, queues, priority)


def test_centralized_tags_the_owner_and_copies(examples):
    d = decide(examples["centralized"], "pr_crisis")
    assert d.tags == ("crisis", "owner:public_affairs", "copy:legal")


def test_dandelion_resolves_units_from_each_platform(examples):
    config = examples["dandelion"]
    assert decide(config, "complaint", source="facebook", account="104857600002").tags == ("unit:restaurant",)
    assert decide(config, "complaint", source="tripadvisor", account="7770456").tags == ("unit:golf",)
    # A handle listed for X means nothing on another platform.
    assert decide(config, "complaint", source="facebook", account="ChateauLaurentides").tags == ()


def test_dandelion_account_wins_over_the_mentions_own_unit(examples):
    d = decide(examples["dandelion"], "complaint", account="@chateaulaurentides", business_unit="golf")
    assert d.queues == ("laurentides.hotel.front-desk",)


def test_honeycomb_marks_reserved_mentions(examples):
    assert "reserved" in decide(examples["honeycomb"], "pr_crisis").tags
    assert "reserved" not in decide(examples["honeycomb"], "complaint").tags


def test_every_example_topic_is_valid_and_listed(examples):
    for model, config in examples.items():
        for label in LABELS:
            for low in (False, True):
                assert set(decide(config, label, 0.5, low, account="ChateauLaurentides").queues) <= config.topics(), model


def test_each_org_model_has_an_example(examples):
    assert {c.org_model for c in examples.values()} == {
        "decentralized", "centralized", "hub_and_spoke", "dandelion", "honeycomb"}
    assert all(examples[name].org_model == name for name in examples)
