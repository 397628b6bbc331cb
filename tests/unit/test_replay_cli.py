"""`inbox-router replay` end to end on the shipped samples, offline (keyword classifier, a small config)."""

import json
import re
from pathlib import Path

import pytest
from replay_doubles import CHANGED_ROUTING_YAML as CHANGED_YAML
from replay_doubles import ROUTING_YAML, KeywordClassifier

from router.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
ARCHIVES = [str(SAMPLES / name) for name in
            ("twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl", "mixed.csv", "summer.jsonl.gz")]
DEAD_IN_SAMPLES = 4  # a truncated tweet, a Facebook reaction, a rating of 9, a CSV row without a date


@pytest.fixture(autouse=True)
def keyword_model(monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load",
                        lambda directory=None: KeywordClassifier(str(directory) if directory else "keywords-1"))


@pytest.fixture
def configs(tmp_path) -> tuple[str, str]:
    (tmp_path / "old.yaml").write_text(ROUTING_YAML)
    (tmp_path / "new.yaml").write_text(CHANGED_YAML)
    return str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["replay", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_summary(capsys, configs):
    code, out, _ = run(capsys, *ARCHIVES, "--config", configs[0], "--json")
    summary = json.loads(out)
    assert code == 0 and out.count("\n") == 1
    assert {"read", "routed", "dead_lettered", "by_label", "by_owner", "by_queue", "by_route"} <= set(summary)
    assert summary["dead_lettered"] == DEAD_IN_SAMPLES
    assert summary["read"] == summary["routed"] + DEAD_IN_SAMPLES
    assert summary["by_source"] == {"facebook": 19, "tripadvisor": 20, "twitter": 40}
    assert sum(summary["by_owner"].values()) == summary["routed"]


def test_text_summary(capsys, configs):
    code, out, err = run(capsys, *ARCHIVES, "--config", configs[0])
    assert code == 0 and err == ""  # no progress bar when stderr is not a terminal
    assert re.search(r"^dead-lettered\s+4$", out, re.M) and "per queue" in out and "no mention in payload" in out


def test_out_writes_decisions_and_reports(capsys, configs, tmp_path):
    code, out, _ = run(capsys, *ARCHIVES, "--config", configs[0], "--json", "--out", str(tmp_path / "r"))
    summary = json.loads(out)
    decisions = (tmp_path / "r" / "decisions.jsonl").read_text().splitlines()
    assert len(decisions) == summary["routed"]
    assert json.loads(decisions[0])["routing"]["routed_at"] == json.loads(decisions[0])["created_at"]
    assert len((tmp_path / "r" / "dead-letters.jsonl").read_text().splitlines()) == DEAD_IN_SAMPLES
    assert json.loads((tmp_path / "r" / "summary.json").read_text()) == summary
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert f"| mentions read | {summary['read']} |" in markdown
    assert f"| human_resources | {summary['by_owner']['human_resources']} |" in markdown
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.count("<svg") == 5 and "<script" not in html and not re.search(r"(src|href)=", html)
    assert f"<b>{summary['routed']}</b>routed" in html


def test_same_input_same_output(capsys, configs, tmp_path):
    outputs = []
    for name in ("a", "b"):
        code, out, _ = run(capsys, *ARCHIVES, "--config", configs[0], "--against", configs[1], "--json",
                           "--out", str(tmp_path / name))
        outputs.append(out)
    assert outputs[0] == outputs[1]
    for file in ("changes.jsonl", "diff.json", "report.md", "report.html"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_diff_json(capsys, configs):
    code, out, _ = run(capsys, *ARCHIVES, "--config", configs[0], "--against", configs[1], "--json")
    diff = json.loads(out)
    assert code == 0 and {"read", "changed", "changed_share", "by_queue_delta"} <= set(diff)
    moved = diff["before"]["by_owner"]["human_resources"]
    assert diff["owner_moves"] == {"human_resources -> marketing": moved}
    assert diff["by_queue_delta"]["q.hr"] == -moved


def test_fail_on_change_gates_owner_changes(capsys, configs):
    code, out, err = run(capsys, *ARCHIVES, "--config", configs[0], "--against", configs[1], "--fail-on-change", "1")
    # A job question in a thread another department owns keeps that owner under both configs: it does not move.
    assert code == 1 and "18 of 79 mentions (22.78%) change" in err
    assert "(owner 6, queues 6, priority 12), more than the 1 % allowed" in err
    code, _, err = run(capsys, *ARCHIVES, "--config", configs[0], "--against", configs[1], "--fail-on-change", "50")
    assert code == 0 and err == ""
    code, _, _ = run(capsys, *ARCHIVES, "--config", configs[0], "--against", configs[0], "--fail-on-change", "0")
    assert code == 0


def test_the_same_rules_under_another_org_model_fail_the_gate(capsys, configs, tmp_path):
    central = tmp_path / "central.yaml"
    centralized = ROUTING_YAML.replace("hub_and_spoke", "centralized").replace("hub: q.hub", "central: q.central")
    central.write_text(centralized.replace("hub:\n  sees: [crisis]\n", ""))
    code, out, err = run(capsys, *ARCHIVES, "--config", configs[0], "--against", str(central), "--json",
                         "--fail-on-change", "5")
    diff = json.loads(out)
    # Every mention now reaches the central team instead of its department: nobody's owner changed, yet all moved.
    assert diff["by_dimension"] == {"owner": 0, "queues": diff["compared"], "priority": 0}
    assert diff["changed_share"] == 1.0 and code == 1 and "more than the 5 % allowed" in err


def test_model_diff_alone(capsys, configs):
    code, out, _ = run(capsys, ARCHIVES[0], "--config", configs[0], "--against-model", "models/next", "--json")
    diff = json.loads(out)
    assert code == 0 and diff["changed"] == 0 and diff["after"]["model_version"] == "models/next"


@pytest.mark.parametrize(("extra", "message"), [
    (["--fail-on-change", "5"], "--fail-on-change needs --against"),
    (["--rate", "10"], "go with --publish"),
    (["--publish", "--json"], "--publish only publishes"),
    (["--publish", "--speed", "0"], "must be positive"),
])
def test_usage_errors_exit_2(capsys, configs, extra, message):
    code, _, err = run(capsys, ARCHIVES[0], "--config", configs[0], *extra)
    assert code == 2 and message in err


def test_missing_archive_and_broken_config_exit_2(capsys, configs, tmp_path):
    code, _, err = run(capsys, str(tmp_path / "nope.jsonl"), "--config", configs[0])
    assert code == 2 and "no such archive" in err
    (tmp_path / "broken.yaml").write_text(ROUTING_YAML.replace("org_model:", "org_modle:"))
    code, _, err = run(capsys, ARCHIVES[0], "--config", str(tmp_path / "broken.yaml"))
    assert code == 2 and "broken.yaml" in err
