"""Diffing two configs over the same mentions, and the --fail-on-change gate."""

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from replay_doubles import CHANGED_ROUTING_YAML as CHANGED_YAML
from replay_doubles import ROUTING_YAML, KeywordClassifier

from router.pipeline import Record, Routed, Router
from router.replay.diff import Diff, exceeds
from router.replay.engine import replay_pairs
from router.rules import Decision, load_config


@pytest.fixture
def routers(tmp_path) -> tuple[Router, Router]:
    (tmp_path / "old.yaml").write_text(ROUTING_YAML)
    (tmp_path / "new.yaml").write_text(CHANGED_YAML)
    classifier = KeywordClassifier()
    old, new = load_config(tmp_path / "old.yaml"), load_config(tmp_path / "new.yaml")
    return Router(classifier, old), Router(classifier, new)


@pytest.fixture
def records(mention_bytes) -> list[Record]:
    texts = ["are you hiring?"] * 3 + ["food poisoning, boycott"] + ["worst, refund"] * 5 + ["nice view"]
    values = [mention_bytes(id=f"m-{i}", text=text) for i, text in enumerate(texts)] + [b"not json"]
    return [Record(value) for value in values]


def run_diff(records, routers, max_examples=20) -> dict:
    diff = Diff(max_examples)
    for before, after in replay_pairs(records, *routers, batch_size=4):
        diff.add(before, after)
    return diff.as_dict()


def test_diff_counts_what_changes(records, routers):
    d = run_diff(records, routers)
    assert (d["read"], d["compared"], d["dead_lettered"]) == (11, 10, 1)
    assert d["changed"] == 4 and d["by_dimension"] == {"owner": 3, "queues": 3, "priority": 1}
    assert d["changed_share"] == 0.4
    assert d["owner_moves"] == {"human_resources -> marketing": 3}
    assert d["by_queue_delta"] == {"q.hr": -3, "q.marketing": 3}
    assert d["load"]["q.customer_service"] == {"before": 5, "after": 5, "delta": 0}
    assert d["triage"] == {"before": 1, "after": 1, "delta": 0, "entered": 0, "left": 0}
    assert d["before"]["by_owner"]["human_resources"] == 3 and "human_resources" not in d["after"]["by_owner"]


def test_examples_are_capped_and_in_archive_order(records, routers):
    d = run_diff(records, routers, max_examples=2)
    assert d["changed"] == 4 and [e["mention_id"] for e in d["examples"]] == ["m-0", "m-1"]
    example = d["examples"][0]
    assert example["changed"] == ["owner", "queues"]
    assert (example["before"]["owner"], example["after"]["owner"]) == ("human_resources", "marketing")
    assert example["before"]["queues"] == ["q.hr"] and example["after"]["route"] == "root/recruitment"


def test_a_config_against_itself_changes_nothing(records, routers):
    d = run_diff(records, (routers[0], routers[0]))
    assert d["changed"] == 0 and d["by_queue_delta"] == {} and d["examples"] == []


def test_a_model_change_shows_in_labels_and_triage(records, routers):
    class Doubtful(KeywordClassifier):  # same labels, half the confidence: below the config's 0.5 threshold
        def classify(self, texts, langs=None):
            return [replace(c, confidence=c.confidence / 2) for c in super().classify(texts, langs)]

    after = Router(Doubtful("doubtful"), routers[0].config)
    d = run_diff(records, (routers[0], after))
    assert d["triage"] == {"before": 1, "after": 10, "delta": 9, "entered": 9, "left": 0}
    # The crisis already reached the hub; the eight others now go there instead of their spoke.
    assert d["label_changed"] == 0 and d["by_queue_delta"]["q.hub"] == 8
    assert d["before"]["model_version"] == "keywords-1" and d["after"]["model_version"] == "doubtful"


@pytest.mark.parametrize(("changed", "compared", "percent", "fails"), [
    (5, 100, 5, False), (6, 100, 5, True), (1, 3, 33.3, True), (1, 3, 33.34, False), (0, 0, 0, False),
    (1, 10, 0, True),
])
def test_exceeds_compares_exact_counts(changed, compared, percent, fails):
    assert exceeds({"changed": changed, "compared": compared}, percent) is fails


def test_another_org_model_changes_queues_and_fails_the_gate(records, routers, tmp_path):
    # The same rules delivered the decentralized way: no owner moves, but every queue set differs for someone.
    (tmp_path / "flat.yaml").write_text(ROUTING_YAML.replace("org_model: hub_and_spoke", "org_model: decentralized")
                                        .replace("  hub: q.hub", "  unassigned: q.unassigned")
                                        .replace("hub:\n  sees: [crisis]\n", ""))
    after = Router(routers[0].classifier, load_config(tmp_path / "flat.yaml"))
    d = run_diff(records, (routers[0], after))
    # The crisis loses its copy to the hub; the triaged mention leaves the hub for its owner's queue.
    assert d["by_dimension"] == {"owner": 0, "queues": 2, "priority": 0} and d["changed"] == 2
    assert exceeds(d, 5) and not exceeds(d, 20)


def timed(decision: Decision, due_by: datetime | None) -> Decision:
    """The decision with a due time, as a config with service levels makes."""
    return replace(decision, due_by=due_by)


def test_optional_dimensions_count_once_a_decision_carries_them(records, routers):
    pairs = list(replay_pairs(records, *routers, batch_size=4))
    plain = Diff()
    for before, after in pairs:
        plain.add(before, after)
    assert set(plain.as_dict()["by_dimension"]) == {"owner", "queues", "priority"}  # no due_by, no incident
    due = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    with_due = Diff()  # the same decisions, with a due time only after the change
    for before, after in pairs:
        if isinstance(before, Routed):
            decision = before.decision
            before, after = routed_with(before, timed(decision, None)), routed_with(after, timed(decision, due))
        with_due.add(before, after)
    data = with_due.as_dict()
    assert data["by_dimension"] == {"owner": 0, "queues": 0, "priority": 0, "due_by": 10}
    assert data["changed"] == 10 and exceeds(data, 99)
    assert data["examples"][0]["after"]["due_by"] == "2026-12-01T10:00:00+00:00"
    assert "due_by" not in data["examples"][0]["before"]


def routed_with(routed: Routed, decision) -> Routed:
    return Routed(routed.record, routed.mention, routed.classification, routed.low_confidence, decision,
                  routed.router, routed.now)
