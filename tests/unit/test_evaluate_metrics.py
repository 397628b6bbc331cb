"""Metrics on a hand-checked set, label projection, and the evaluate command."""

import json

import numpy as np
import pytest

from router.classify.model import default_model_dir
from router.classify.training.metrics import project, score
from router.cli import main

SEED = default_model_dir().parent / "corpus" / "seed.jsonl"


def seed_subset(per_label: int = 60) -> list[dict]:
    """The first examples of each label in the committed seed corpus: small enough to train in a second."""
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]
    taken: dict[str, int] = {}
    subset = []
    for row in rows:
        if taken.get(row["label"], 0) < per_label:
            taken[row["label"]] = taken.get(row["label"], 0) + 1
            subset.append({"text": row["text"], "label": row["label"]})
    return subset

GOLD = ["complaint", "complaint", "complaint", "other", "other", "sales_lead"]
PRED = ["complaint", "complaint", "other", "complaint", "other", "sales_lead"]


def test_metrics_by_hand():
    result = score(GOLD, PRED)
    assert result["n"] == 6
    assert result["accuracy"] == pytest.approx(4 / 6)
    complaint = result["per_label"]["complaint"]
    # 2 right of 3 predicted complaints, 2 found of 3 gold complaints.
    assert complaint == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    other = result["per_label"]["other"]
    assert other == pytest.approx({"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "support": 2})
    assert result["per_label"]["sales_lead"]["f1"] == 1.0
    assert result["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert result["confusion"] == [[2, 0, 1], [0, 1, 0], [1, 0, 1]]  # rows gold: complaint, sales_lead, other


def test_predictions_outside_the_gold_labels_count_as_other():
    gold = ["complaint", "other", "other"]
    predicted = ["pr_crisis", "sales_lead", "complaint"]
    assert project(predicted, ["complaint", "other"]) == ["other", "other", "complaint"]
    result = score(gold, predicted)
    assert set(result["per_label"]) == {"complaint", "other"}
    assert result["accuracy"] == pytest.approx(1 / 3)
    assert result["per_label"]["complaint"]["recall"] == 0.0
    assert result["per_label"]["other"]["recall"] == 0.5


def test_binary_gold_gets_an_auc():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    result = score(["complaint", "other", "other"], ["complaint", "other", "complaint"], scores, ["complaint", "other"])
    assert result["auc"] == 1.0


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_evaluate_json_on_the_shipped_model(tmp_path, capsys):
    data = _write(tmp_path / "d.jsonl", [
        {"text": "@SkyLineAir you lost my luggage and nobody answers the phone", "label": "complaint"},
        {"text": "Thank you for the lovely flight, great crew!", "label": "other"},
    ])
    assert main(["evaluate", "--data", data, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"n", "accuracy", "macro_f1", "per_label"} <= result.keys()
    assert result["n"] == 2
    assert set(result["per_label"]) == {"complaint", "other"}
    assert set(result["per_label"]["complaint"]) == {"precision", "recall", "f1", "support"}


def test_evaluate_prints_a_table(tmp_path, capsys):
    data = _write(tmp_path / "d.jsonl", [{"text": "are you hiring interns this summer?", "label": "recruitment"}])
    assert main(["evaluate", "--data", data]) == 0
    out = capsys.readouterr().out
    assert "recruitment" in out and "macro_f1=" in out


def test_a_label_the_model_does_not_know_is_an_error(tmp_path, capsys):
    train = _write(tmp_path / "train.jsonl", [r for r in seed_subset() if r["label"] in ("complaint", "other")])
    model = str(tmp_path / "model")
    assert main(["train", "--data", train, "--out", model]) == 0
    data = _write(tmp_path / "d.jsonl", [{"text": "are you hiring?", "label": "recruitment"}])
    assert main(["evaluate", "--data", data, "--model", model]) == 2
    assert "does not know: recruitment" in capsys.readouterr().err


def test_unknown_label_in_data_is_refused(tmp_path, capsys):
    data = _write(tmp_path / "d.jsonl", [{"text": "x", "label": "spam"}])
    assert main(["evaluate", "--data", data]) == 2
    assert "label 'spam' is not one of" in capsys.readouterr().err


def test_cross_validation_is_deterministic(tmp_path, capsys):
    rows = [r for r in seed_subset() if r["label"] in ("complaint", "other")]
    data = _write(tmp_path / "cv.jsonl", rows)
    assert main(["evaluate", "--data", data, "--cv", "3", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--data", data, "--cv", "3", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second
    assert first["cv"] == 3 and first["n"] == len(rows)
    assert first["macro_f1"] > 0.6  # the seed corpus is separable enough to learn from 2/3 of it
