"""The operator commands: `check-config` (with --tree and --test) and `explain`."""

import io
import json
import sys
from pathlib import Path

import pytest

from router.classify.labels import Classification
from router.cli import main

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / "config" / "router.yaml"] + sorted(
    p for p in (REPO / "config" / "examples").glob("*.yaml") if not p.name.endswith(".tests.yaml")
)
MINIMAL = """\
org_model: decentralized
confidence_threshold: 0.5
departments: {sales: q.sales}
topics: {unassigned: q.none}
route:
  name: root
  routes:
    - name: sales
      match: ['label = "sales_lead"']
      owner: sales
"""
MINIMAL_TESTS = """\
tests:
  - name: a lead goes to sales
    label: sales_lead
    mention: {source: twitter, text: "price list please"}
    expect: {owner: sales, queues: [q.sales]}
  - name: the rest is unassigned
    label: other
    mention: {source: twitter, text: "hi"}
    expect: {owner: unassigned, queues: [q.none]}
"""


class FakeClassifier:
    """Labels "sales" texts as leads; the real model is the classifier's tests' business."""

    threshold = 0.6

    def classify(self, texts, langs=None):
        return [Classification("sales_lead" if "price" in t else "other", 0.9, {"sales_lead": 0.9}) for t in texts]


@pytest.fixture
def configs(tmp_path):
    (tmp_path / "ok.yaml").write_text(MINIMAL)
    (tmp_path / "ok.tests.yaml").write_text(MINIMAL_TESTS)
    (tmp_path / "bad.yaml").write_text(MINIMAL.replace("owner: sales", "owner: sale"))
    return tmp_path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_passes_its_tests(capsys, path):
    assert main(["check-config", "--test", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: SUCCESS\n"


def test_check_config_reports_each_file_and_fails_if_any_failed(capsys, configs):
    ok, bad = configs / "ok.yaml", configs / "bad.yaml"
    assert main(["check-config", str(ok), str(bad)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{ok}: SUCCESS",
        f'{bad}: FAILED: {bad}:10: route "sales" names unknown department "sale" (declared: sales)',
    ]


def test_check_config_tree(capsys, configs):
    assert main(["check-config", "--tree", str(configs / "ok.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:] == [
        "organisation:",
        "  unassigned: q.none",
        "routes:",
        "root  -> owner=unassigned priority=normal",
        '└── sales  [label = "sales_lead"]  -> owner=sales priority=normal',
    ]


def test_check_config_tree_shows_the_dandelion_units_their_accounts_and_routes(capsys):
    assert main(["check-config", "--tree", str(REPO / "config" / "examples" / "dandelion.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    organisation = lines[lines.index("organisation:") + 1:lines.index("routes:")]
    assert organisation[0] == "  corporate hub: laurentides.corporate-hub (every crisis; triage of mentions without a unit)"
    golf = organisation[organisation.index("  business unit golf: hub laurentides.golf.hub (its triage and crises)"):]
    assert golf[1:5] == [
        "    accounts: twitter GolfLaurentides, tripadvisor 7770456",
        "    spokes: customer_service laurentides.golf.pro-shop, sales laurentides.golf.tee-times "
        "(other departments: the corporate queues)",
        "    routes, tried before the corporate routes:",
        "      golf  -> owner=marketing priority=normal",
    ]
    assert golf[5].startswith("      ├── golf-tee-times  [")


@pytest.mark.parametrize("name, expected", [
    ("hub_and_spoke", ["  hub: juice.social-hub   sees: all (beside the spokes; triage: the hub alone)"]),
    ("honeycomb", ["  shared stream: acme.social-all-hands (every employee may answer)",
                   "  policy: reserved labels pr_crisis; reserved departments legal "
                   "(these and crises: their departments only, never the shared stream)"]),
    ("centralized", ["  central: airline.social-team"]),
])
def test_check_config_tree_shows_the_organisation_layer(capsys, name, expected):
    assert main(["check-config", "--tree", str(REPO / "config" / "examples" / f"{name}.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("organisation:") + 1
    # The organisation layer is indented under its heading; the crisis section, when there is one, follows it.
    end = next(index for index in range(start, len(lines)) if not lines[index].startswith("  "))
    assert lines[start:end] == expected
    assert lines[end].startswith("crisis: on; counts complaint, pr_crisis and escalations; window ")


def test_check_config_test_runs_the_tests_file_beside_the_config(capsys, configs):
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 0
    assert capsys.readouterr().out == f"{configs / 'ok.yaml'}: SUCCESS\n"


def test_a_tests_file_given_as_path_runs_against_its_config(capsys, configs):
    assert main(["check-config", str(configs / "ok.tests.yaml")]) == 0
    assert capsys.readouterr().out == f"{configs / 'ok.tests.yaml'}: SUCCESS\n"


def test_failing_tests_say_which_and_why(capsys, configs):
    tests = configs / "ok.tests.yaml"
    tests.write_text(MINIMAL_TESTS.replace("queues: [q.none]", "queues: [q.sales]"))
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{configs / 'ok.yaml'}: FAILED: 1 of 2 tests failed in {tests}",
        f'  {tests}:6: test "the rest is unassigned": queues: expected [q.sales], got [q.none]',
        f'  {tests}:6: test "the rest is unassigned": routed with label other (forced), confidence 1, route root',
    ]


def test_a_failing_test_shows_the_classified_label_confidence_and_route(capsys, configs, monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load", classmethod(lambda cls, directory=None: FakeClassifier()))
    tests = configs / "ok.tests.yaml"
    tests.write_text(MINIMAL_TESTS.replace("    label: sales_lead\n", "").replace("expect: {owner: sales,",
                                                                                     "expect: {owner: legal,"))
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        f'  {tests}:2: test "a lead goes to sales": owner: expected legal, got sales',
        f'  {tests}:2: test "a lead goes to sales": routed with label sales_lead (classified), confidence 0.9, '
        "route root > sales",
    ]


def test_a_failing_test_says_when_the_mention_went_to_triage(capsys, configs):
    tests = configs / "ok.tests.yaml"
    tests.write_text(MINIMAL_TESTS.replace("    label: sales_lead\n", "    label: sales_lead\n    confidence: 0.25\n")
                     .replace("expect: {owner: sales,", "expect: {owner: legal,"))
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 1
    assert capsys.readouterr().out.splitlines()[2].endswith(
        "routed with label sales_lead (forced), confidence 0.25, low confidence, route root > sales")


def test_a_missing_tests_file_fails_with_test(capsys, configs):
    (configs / "ok.tests.yaml").unlink()
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 1
    assert capsys.readouterr().out == (
        f"{configs / 'ok.yaml'}: FAILED: no tests file {configs / 'ok.tests.yaml'} beside it\n"
    )


def test_a_malformed_tests_file_fails_with_its_line(capsys, configs):
    (configs / "ok.tests.yaml").write_text(MINIMAL_TESTS.replace("    expect: {owner: sales", "    expekt: {owner: sales"))
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 1
    out = capsys.readouterr().out
    assert out == f"{configs / 'ok.yaml'}: FAILED: {configs / 'ok.tests.yaml'}:2: a test is missing the required key \"expect\"\n"


def test_without_a_configured_threshold_tests_use_the_classifiers(capsys, configs, monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load", classmethod(lambda cls, directory=None: FakeClassifier()))
    (configs / "ok.yaml").write_text(MINIMAL.replace("confidence_threshold: 0.5\n", ""))
    (configs / "ok.tests.yaml").write_text(
        "tests:\n"
        "  - name: below the classifier's threshold of 0.6\n"
        "    label: other\n"
        "    confidence: 0.55\n"
        "    mention: {source: twitter, text: hi}\n"
        "    expect: {tags: [triage]}\n"
    )
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 0


def test_tests_without_a_forced_label_use_the_classifier(capsys, configs, monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load", classmethod(lambda cls, directory=None: FakeClassifier()))
    (configs / "ok.tests.yaml").write_text(MINIMAL_TESTS.replace("    label: sales_lead\n", ""))
    assert main(["check-config", "--test", str(configs / "ok.yaml")]) == 0


MENTION = {"id": "7", "source": "twitter", "text": "price list please", "created_at": "2026-11-20T10:00:00Z", "lang": "en"}


def test_explain_with_a_forced_label(capsys, configs, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(MENTION))
    assert main(["explain", "--config", str(configs / "ok.yaml"), "--label", "sales_lead", "--confidence", "0.8",
                 str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "mention 7 (twitter, lang en)"
    assert out[1] == "label: sales_lead (confidence 0.80, threshold 0.50)"
    assert "  root: matched (no matchers: matches everything)" in out
    assert '    sales: matched: label = "sales_lead": yes (label is "sales_lead")  <- decides' in out
    assert out[out.index("decision:"):] == [
        "decision:", "  owner: sales", "  queues: q.sales", "  priority: normal", "  copies: -", "  tags: -",
        "  route: root > sales",
    ]


def test_explain_reads_stdin_and_runs_the_classifier(capsys, configs, monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load", classmethod(lambda cls, directory=None: FakeClassifier()))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps({**MENTION, "text": "hi"}).encode())))
    assert main(["explain", "--config", str(configs / "ok.yaml"), "-"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "label: other (confidence 0.90, threshold 0.50)"
    assert '    sales: no match: label = "sales_lead": no (label is "other")' in out
    assert "  owner: unassigned" in out and "  queues: q.none" in out


def test_explain_reports_an_invalid_mention(capsys, configs, tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    assert main(["explain", "--config", str(configs / "ok.yaml"), "--label", "other", str(path)]) == 1
    assert capsys.readouterr().err.startswith("explain: invalid JSON")
