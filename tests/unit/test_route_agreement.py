"""The worker's pipeline, `classify`, `explain` (with and without --label) and rule tests route a mention alike."""

import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace

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
    """Reads the label, the confidence and a doubt from the text ("sales_lead 0.55 too_short"): any of them."""

    version, threshold, labels = "text-1", MODEL_THRESHOLD, LABELS

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        return [self._one(*text.split()) for text in texts]

    def _one(self, label: str, confidence: str, doubt: str | None = None) -> Classification:
        return replace(Classification.forced(label, float(confidence)), doubt=doubt)


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


def mention(index: int, label: str, confidence: float, doubt: str = "") -> dict:
    return {"id": f"m{index}", "source": "twitter", "text": f"{label} {confidence} {doubt}".strip(),
            "created_at": "2026-11-20T10:00:00Z"}


def by_pipeline(config_path, cases=CASES) -> list[Routed]:
    router = Router(TextClassifier(), load_config(config_path))
    records = [Record(json.dumps(mention(i, *case)).encode()) for i, case in enumerate(cases)]
    return route_batch(records, router, None)


def by_classify(config_path, cases=CASES) -> list[tuple[bool, str | None]]:
    out = io.StringIO()
    lines = "\n".join(json.dumps(mention(i, *case)) for i, case in enumerate(cases))
    classify_stream(Router(TextClassifier(), load_config(config_path)), io.BytesIO(lines.encode()), out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return [(row["low_confidence"], row["low_confidence_reason"]) for row in rows]


def by_explain(config_path, tmp_path, capsys, index: int, *forced: str, cases=CASES) -> tuple[str | None, dict]:
    """The reason explain gives for a low confidence (None if it shows none), and its decision."""
    path = tmp_path / "mention.json"
    path.write_text(json.dumps(mention(index, *cases[index])))
    assert main(["explain", "--config", str(config_path), *forced, str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    decision = dict(line.strip().split(": ", 1) for line in lines[lines.index("decision:") + 1:])
    low = re.search(r", LOW \((\w+)\): triage\)$", lines[1])
    return (low.group(1) if low else None), decision


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
    assert by_classify(config_path) == [(low, "below_threshold" if low else None) for low in lows]
    for index, outcome in enumerate(routed):
        label, confidence = CASES[index]
        shown = {"owner": outcome.decision.owner, "queues": ", ".join(outcome.decision.queues) or "-",
                 "tags": ", ".join(outcome.decision.tags) or "-"}
        for forced in ((), ("--label", label, "--confidence", str(confidence))):
            reason, decision = by_explain(config_path, tmp_path, capsys, index, *forced)
            assert reason == ("below_threshold" if outcome.low_confidence else None), (index, forced)
            assert {key: decision[key] for key in shown} == shown, (index, forced)
    config_path.with_name("routing.tests.yaml").write_text(rule_tests(routed))
    assert main(["check-config", "--test", str(config_path)]) == 0, capsys.readouterr().out


def test_the_config_threshold_wins_and_the_models_counts_without_one(config_path):
    lows = [outcome.low_confidence for outcome in by_pipeline(config_path)]
    threshold = 0.68 if "confidence_threshold" in config_path.read_text() else MODEL_THRESHOLD
    assert lows == [confidence < threshold for _, confidence in CASES]


DOUBTED = [("sales_lead", 0.99, "unsupported_language"), ("other", 0.95, "too_short"), ("other", 0.95)]


def test_a_doubted_label_is_triaged_alike_at_any_confidence(config_path, tmp_path, capsys):
    routed = by_pipeline(config_path, DOUBTED)
    assert [outcome.low_confidence for outcome in routed] == [True, True, False]
    assert [outcome.decision.queues for outcome in routed] == [("q.hub",), ("q.hub",), ("q.marketing", "q.hub")]
    reasons = ["unsupported_language", "too_short", None]
    assert [outcome.routing_document()["low_confidence_reason"] for outcome in routed] == reasons
    assert by_classify(config_path, DOUBTED) == [(reason is not None, reason) for reason in reasons]
    for index, reason in enumerate(reasons):
        assert by_explain(config_path, tmp_path, capsys, index, cases=DOUBTED)[0] == reason
    tests = [{"name": f"doubted {index}", "mention": {"source": "twitter", "text": " ".join(map(str, case))},
              "expect": {"queues": list(outcome.decision.queues)}}
             for index, (case, outcome) in enumerate(zip(DOUBTED, routed))]
    config_path.with_name("routing.tests.yaml").write_text(json.dumps({"tests": tests}))
    assert main(["check-config", "--test", str(config_path)]) == 0, capsys.readouterr().out
