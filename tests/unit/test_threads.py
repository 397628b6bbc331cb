"""Threads stay together: a reply keeps its thread's owner, unless its route says `sticky: false` or it is a crisis."""

import json
from pathlib import Path

import pytest

from router.classify.labels import LABELS, Classification
from router.cli import main
from router.conversations import Claim, Conversation, Conversations
from router.mentions import Mention
from router.pipeline import Record, Routed, Router, messages_for, route_batch
from router.rules import RoutingConfig, load_config
from router.rules.render import render_tree

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
org_model: hub_and_spoke
confidence_threshold: 0.5
departments: {marketing: q.m, sales: q.s, customer_service: q.cs, public_affairs: q.pa, human_resources: q.hr,
              legal: q.l}
topics: {hub: q.hub}
hub: {sees: [crisis]}
route:
  name: root
  owner: marketing
  routes:
    - name: crisis-words
      match: ['text =~ ".*boycott.*"']
      owner: marketing
      escalate: true
    - {name: crisis, match: ['label = pr_crisis'], owner: public_affairs}
    - name: sales
      match: ['label = sales_lead']
      owner: sales
      copies: [customer_service]
      priority: high
    - name: recruitment
      match: ['label = recruitment']
      owner: human_resources
      sticky: false
      routes:
        - {name: internship, match: ['text =~ ".*internship.*"'], tags: [intern]}
        - {name: staff, match: ['text =~ ".*my manager.*"'], sticky: true}
    - {name: complaint, match: ['label = complaint'], owner: customer_service}
"""


@pytest.fixture
def config(tmp_path) -> RoutingConfig:
    path = tmp_path / "threads.yaml"
    path.write_text(CONFIG)
    return load_config(path)


def mention(text: str = "hello", thread_id: str | None = "t-1") -> Mention:
    return Mention.model_validate({"id": "m-2", "source": "facebook", "text": text,
                                   "created_at": "2026-11-20T10:00:00Z", "thread_id": thread_id})


def labelled(label: str, confidence: float = 0.9) -> Classification:
    rest = (1 - confidence) / (len(LABELS) - 1)
    return Classification(label, confidence, {name: confidence if name == label else rest for name in LABELS})


class Classifier:
    version, threshold = "fixed", 0.5


OWNED = Conversation(owner="customer_service", owner_mention="m-1")


def route(config: RoutingConfig, label: str, thread: Conversation | None = OWNED, confidence: float = 0.9, **fields):
    return config.route(mention(**fields), labelled(label, confidence), classifier=Classifier(), thread=thread).decision


# --- the route option ----------------------------------------------------------------------------

def test_sticky_is_true_by_default_inherited_and_overridden(config):
    settings = {route.name: route.settings.sticky for route in _routes(config.tree)}
    assert settings == {"root": True, "crisis-words": True, "crisis": True, "sales": True, "recruitment": False,
                        "internship": False, "staff": True, "complaint": True}
    assert any(line.endswith("sticky=false") for line in render_tree(config) if "recruitment" in line)


def _routes(route):
    yield route
    for child in route.children:
        yield from _routes(child)


# --- routing a reply -----------------------------------------------------------------------------

def test_a_reply_keeps_its_threads_owner_and_its_own_priority_and_copies(config):
    decision = route(config, "sales_lead")
    assert (decision.owner, decision.queues, decision.priority, decision.copies, decision.route) == (
        "customer_service", ("q.cs",), "high", (), ("root", "sales"))  # the owner is no copy of itself
    assert decision.thread_owner
    assert route(config, "sales_lead", thread=None).owner == "sales"


def test_a_route_with_sticky_false_routes_by_the_rules(config):
    decision = route(config, "recruitment")
    assert (decision.owner, decision.thread_owner) == ("human_resources", False)
    assert route(config, "recruitment", text="an internship?").owner == "human_resources"  # inherited
    assert route(config, "recruitment", text="ask my manager").owner == "customer_service"  # sticky: true again


def test_a_crisis_breaks_the_thread(config):
    by_label = route(config, "pr_crisis")
    by_escalation = route(config, "other", text="boycott them")
    assert (by_label.owner, by_label.thread_owner, by_label.queues) == ("public_affairs", False, ("q.pa", "q.hub"))
    assert (by_escalation.owner, by_escalation.thread_owner) == ("marketing", False)
    assert "crisis" in by_escalation.tags


def test_a_low_confidence_reply_goes_to_its_threads_owner_not_to_triage(config):
    decision = route(config, "other", confidence=0.3)
    assert (decision.owner, decision.queues, decision.tags) == ("customer_service", ("q.cs",), ())
    assert route(config, "other", thread=None, confidence=0.3).queues == ("q.hub",)


def test_an_owner_the_config_no_longer_declares_is_not_kept(config):
    decision = route(config, "sales_lead", thread=Conversation(owner="it", owner_mention="m-1"))
    assert (decision.owner, decision.thread_owner) == ("sales", False)


def test_the_mention_that_gave_the_owner_is_routed_as_the_first_again(config):
    decision = route(config, "sales_lead", thread=Conversation(owner="customer_service", owner_mention="m-2"))
    assert (decision.owner, decision.thread_owner) == ("sales", False)  # a redelivery decides what it first did


def test_a_mention_without_a_thread_has_no_thread_owner(config):
    # Its claim key is its own id, which may hold a claim: that never makes it a reply.
    decision = route(config, "sales_lead", thread_id=None)
    assert (decision.owner, decision.thread_owner) == ("sales", False)


@pytest.mark.parametrize(("label", "confidence", "text", "seeds"), [
    ("sales_lead", 0.9, "hi", True),
    ("pr_crisis", 0.3, "hi", True),  # a crisis is never triaged: its owner is the thread's
    ("sales_lead", 0.3, "hi", False),  # triaged: its owner is a guess
    ("recruitment", 0.9, "hi", False),  # its route says sticky: false
])
def test_which_first_mentions_give_their_thread_an_owner(config, label, confidence, text, seeds):
    assert route(config, label, thread=None, confidence=confidence, text=text).seeds_thread is seeds


def test_explain_shows_the_owner_came_from_the_thread(capsys, tmp_path):
    path = tmp_path / "reply.json"
    path.write_text(json.dumps({"id": "c-2", "source": "facebook", "text": "price of the suite?",
                                "created_at": "2026-11-20T10:00:00Z", "thread_id": "post-1"}))
    config = str(REPO / "config" / "router.yaml")
    assert main(["explain", "--config", config, "--label", "sales_lead", "--thread-owner", "customer_service",
                 str(path)]) == 0
    out = capsys.readouterr().out
    assert "  owner: customer_service" in out
    assert "  thread owner: customer_service, kept (the rules alone would choose sales)" in out
    assert main(["explain", "--config", config, "--label", "recruitment", "--thread-owner", "customer_service",
                 str(path)]) == 0
    assert 'thread owner: customer_service, not kept: route "recruitment" has sticky: false' in capsys.readouterr().out


# --- the pipeline ------------------------------------------------------------------------------

class Keyword:
    """Sales for texts with "price", complaints for "refund", the rest other; always sure."""

    version, threshold = "keyword", 0.5

    def classify(self, texts, langs=None):
        return [labelled("sales_lead" if "price" in t else "complaint" if "refund" in t else "other") for t in texts]


def records(*texts: str, thread: str = "t-1") -> list[Record]:
    return [Record(json.dumps({"id": f"c-{n}", "source": "facebook", "text": text, "thread_id": thread,
                               "created_at": "2026-11-20T10:00:00Z"}).encode()) for n, text in enumerate(texts)]


def test_the_pipeline_routes_replies_to_the_first_mentions_owner_and_returns_its_changelog(config):
    router, state = Router(Keyword(), config), Conversations()
    first, second, third = route_batch(records("I want a refund", "what is the price", "ok"), router, None, state)
    assert isinstance(first, Routed) and isinstance(second, Routed) and isinstance(third, Routed)
    assert [o.decision.owner for o in (first, second, third)] == ["customer_service"] * 3
    assert [o.decision.thread_owner for o in (first, second, third)] == [False, True, True]
    assert [len(o.changes) for o in (first, second, third)] == [1, 0, 0]
    messages = messages_for(first, decisions_topic="d", dead_letter_topic="x", changelog_topic="routing.threads")
    assert messages[-1] == ("routing.threads", b"t-1", b'{"owner":"customer_service","owner_mention":"c-0"}')
    assert [m.topic for m in messages_for(second, decisions_topic="d", dead_letter_topic="x",
                                          changelog_topic="routing.threads")] == ["q.cs", "d"]
    without_state = route_batch(records("I want a refund", "what is the price"), router, None)
    assert [o.decision.owner for o in without_state if isinstance(o, Routed)] == ["customer_service", "sales"]


def test_later_deliveries_carry_the_claim_and_every_one_its_claim_key(config):
    router, state = Router(Keyword(), config), Conversations()
    [before] = route_batch(records("I want a refund"), router, None, state)
    assert state.fold_claim(b"t-1", b'{"mention_id": "c-0", "claimed_by": "alice", "at": "2026-11-20T10:05:00Z"}'
                            ).problem is None
    [after] = route_batch(records("any news?"), router, None, state)
    [alone] = route_batch([Record(b'{"id": "x-1", "source": "twitter", "text": "hi", '
                                  b'"created_at": "2026-11-20T10:00:00Z"}')], router, None, state)
    assert isinstance(before, Routed) and isinstance(after, Routed) and isinstance(alone, Routed)
    routing = [o.routing.as_document() for o in (before, after, alone)]
    assert [(r["claim_key"], r["claimed_by"], r["claimed_at"]) for r in routing] == [
        ("t-1", None, None), ("t-1", "alice", "2026-11-20T10:05:00+00:00"), ("x-1", None, None)]
    delivered = json.loads(messages_for(after, decisions_topic="d", dead_letter_topic="x")[0].value)
    assert delivered["routing"]["claimed_by"] == "alice" and delivered["routing"]["claim_key"] == "t-1"
    assert isinstance(after.conversation, Conversation) and isinstance(after.conversation.claim, Claim)


# --- rule tests --------------------------------------------------------------------------------

def test_a_rule_test_may_route_a_reply_in_a_thread_its_owner_owns(capsys, tmp_path):
    (tmp_path / "threads.yaml").write_text(CONFIG)
    tests = tmp_path / "threads.tests.yaml"
    case = """\
  - name: {name}
    label: sales_lead
    thread_owner: {owner}
    mention: {{source: facebook, text: "price?"{thread}}}
    expect: {{owner: customer_service}}
"""
    tests.write_text("tests:\n" + case.format(name="kept", owner="customer_service", thread=", thread_id: t-1")
                     + case.format(name="no thread", owner="customer_service", thread="")
                     + case.format(name="other owner", owner="sales", thread=", thread_id: t-1"))
    assert main(["check-config", "--test", str(tmp_path / "threads.yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f'  {tests}:7: test "no thread": thread_owner needs a mention with a thread_id' in out
    assert f'  {tests}:12: test "other owner": owner: expected customer_service, got sales' in out
    assert not any('test "kept"' in line for line in out)
    tests.write_text("tests:\n" + case.format(name="bad", owner="[a, b]", thread=""))
    assert main(["check-config", "--test", str(tmp_path / "threads.yaml")]) == 1
    assert "thread_owner" in capsys.readouterr().out
