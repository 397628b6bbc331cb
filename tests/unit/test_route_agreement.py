"""The worker's pipeline, `classify`, `explain` (with and without --label) and rule tests route a mention alike."""

import io
import json
from collections.abc import Sequence

import pytest

from router.classify.labels import LABELS, Classification
from router.cli import main
from router.commands.classify import classify_stream
from router.pipeline import Record, Routed, Router, route_batch
from router.rules import load_config

# Low confidence sends a mention to the hub alone, tagged triage: the flag shows in every decision.
CONFIG = """\
org_model: hub_and_spoke
{threshold}departments: {{marketing: q.marketing, sales: q.sales}}
topics: {{hub: q.hub}}
route:
  name: root
  owner: marketing
  routes:
    - {{name: sales, match: ['label = "sales_lead"'], owner: sales}}
"""
MODEL_THRESHOLD = 0.6
# (label, confidence): around the model's threshold and the config's, so that which one counts shows.
CASES = [("sales_lead", 0.9), ("sales_lead", 0.55), ("other", 0.7), ("other", 0.5), ("other", 0.65)]


class TextClassifier:
    """Reads the label and the confidence from the text ("sales_lead 0.55"): any label, any confidence."""

    version, threshold, labels = "text-1", MODEL_THRESHOLD, LABELS

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [Classification.forced(label, float(confidence)) for label, confidence in map(str.split, texts)]


@pytest.fixture(autouse=True)
def text_model(monkeypatch):
    monkeypatch.setattr("router.classify.model.Classifier.load",
                        classmethod(lambda cls, directory=None: TextClassifier()))


@pytest.fixture(params=["threshold: 0.68", "no threshold"])
def config_path(request, tmp_path):
    threshold = "confidence_threshold: 0.68\n" if request.param.startswith("threshold") else ""
    path = tmp_path / "routing.yaml"
    path.write_text(CONFIG.format(threshold=threshold))
    return path


def mention(index: int, label: str, confidence: float) -> dict:
    return {"id": f"m{index}", "source": "twitter", "text": f"{label} {confidence}", "created_at": "2026-11-20T10:00:00Z"}


def by_pipeline(config_path) -> list[Routed]:
    router = Router(TextClassifier(), load_config(config_path))
    records = [Record(json.dumps(mention(i, *case)).encode()) for i, case in enumerate(CASES)]
    return route_batch(records, router, None)


def by_classify(config_path) -> list[bool]:
    out = io.StringIO()
    lines = "\n".join(json.dumps(mention(i, *case)) for i, case in enumerate(CASES))
    classify_stream(Router(TextClassifier(), load_config(config_path)), io.BytesIO(lines.encode()), out)
    return [json.loads(line)["low_confidence"] for line in out.getvalue().splitlines()]


def by_explain(config_path, tmp_path, capsys, index: int, *forced: str) -> tuple[bool, dict]:
    path = tmp_path / "mention.json"
    path.write_text(json.dumps(mention(index, *CASES[index])))
    assert main(["explain", "--config", str(config_path), *forced, str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    decision = dict(line.strip().split(": ", 1) for line in lines[lines.index("decision:") + 1:])
    return "LOW: triage" in lines[1], decision


def rule_tests(routed: list[Routed]) -> str:
    """A tests file expecting what the pipeline decided, once classified by the model and once with a forced label."""
    tests = []
    for outcome in routed:
        label, confidence = outcome.mention.text.split()
        expect = {"owner": outcome.decision.owner, "queues": list(outcome.decision.queues),
                  "tags": list(outcome.decision.tags)}
        tests.append({"name": f"{outcome.mention.id} classified",
                      "mention": {"source": "twitter", "text": outcome.mention.text}, "expect": expect})
        tests.append({"name": f"{outcome.mention.id} forced", "label": label, "confidence": float(confidence),
                      "mention": {"source": "twitter", "text": "anything"}, "expect": expect})
    return json.dumps({"tests": tests})  # JSON is YAML


def test_the_four_agree(config_path, tmp_path, capsys):
    routed = by_pipeline(config_path)
    lows = [outcome.low_confidence for outcome in routed]
    # The hub's triage makes the low-confidence flag visible to rule tests, which compare decisions.
    assert [outcome.decision.queues == ("q.hub",) for outcome in routed] == lows
    assert by_classify(config_path) == lows
    for index, outcome in enumerate(routed):
        label, confidence = CASES[index]
        shown = {"owner": outcome.decision.owner, "queues": ", ".join(outcome.decision.queues) or "-",
                 "tags": ", ".join(outcome.decision.tags) or "-"}
        for forced in ((), ("--label", label, "--confidence", str(confidence))):
            low, decision = by_explain(config_path, tmp_path, capsys, index, *forced)
            assert low is outcome.low_confidence, (index, forced)
            assert {key: decision[key] for key in shown} == shown, (index, forced)
    config_path.with_name("routing.tests.yaml").write_text(rule_tests(routed))
    assert main(["check-config", "--test", str(config_path)]) == 0, capsys.readouterr().out


def test_the_config_threshold_wins_and_the_models_counts_without_one(config_path):
    lows = [outcome.low_confidence for outcome in by_pipeline(config_path)]
    threshold = 0.68 if "confidence_threshold" in config_path.read_text() else MODEL_THRESHOLD
    assert lows == [confidence < threshold for _, confidence in CASES]
