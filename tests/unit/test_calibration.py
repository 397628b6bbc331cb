"""Temperature fitted on held-out batches, the reliability report and diagram, and the false-alarm count."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from router.classify.labels import Classification
from router.classify.model import Classifier
from router.classify.training import calibration, false_alarms, reliability
from router.classify.training.corpus import Labelled, read_labelled
from router.classify.training.train import expected_calibration_error

SEED = Path(__file__).resolve().parents[2] / "models" / "corpus" / "seed.jsonl"


def test_the_fitted_temperature_is_the_one_that_made_the_labels():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(20000, 4)) * 2
    scaled = np.exp(0.6 * logits)
    probabilities = scaled / scaled.sum(axis=1, keepdims=True)
    gold = np.array([rng.choice(4, p=row) for row in probabilities])
    assert calibration.fit_temperature(logits, gold) == pytest.approx(0.6, abs=0.03)


def test_a_label_no_training_fold_had_never_gets_probability():
    logits = np.array([[1.0, -np.inf, 0.0], [0.0, -np.inf, 2.0], [3.0, -np.inf, 0.0]])
    assert np.isfinite(calibration.fit_temperature(logits, np.array([0, 2, 2])))


def test_the_expected_calibration_error_is_the_gap_between_confidence_and_accuracy():
    confidence = np.array([0.95] * 10 + [0.65] * 10)
    correct = np.array([True] * 9 + [False] + [True] * 5 + [False] * 5)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.5 * 0.05 + 0.5 * 0.15)


def batched_corpus(per_label: int = 8) -> Labelled:
    """Every 3rd seed example, at most `per_label` a label per batch, with its batch; a batchless public part."""
    full = read_labelled([SEED])
    taken: dict[tuple, int] = {}
    rows = []
    for index, (text, label, group) in enumerate(zip(full.texts, full.labels, full.groups or [])):
        key = (label, group)
        if index % 3 == 0 and taken.get(key, 0) < per_label:
            taken[key] = taken.get(key, 0) + 1
            rows.append((text, label, group))
    rows += [(f"what is the exchange rate for {currency} today", "other", None) for currency in ("yen", "euro")]
    return Labelled([r[0] for r in rows], [r[1] for r in rows], [1.0] * len(rows), None, [r[2] for r in rows])


def test_each_batch_is_predicted_by_a_model_trained_without_it():
    data = batched_corpus()
    logits, gold, classes = calibration.held_out_logits(data, np.ones(len(data)))
    with_batch = [label for label, group in zip(data.labels, data.groups or []) if group is not None]
    assert len(logits) == len(gold) == len(with_batch)  # the batchless examples only ever train
    assert sorted(classes[i] for i in gold) == sorted(with_batch)
    assert calibration.held_out_logits(Labelled(data.texts, data.labels, None, None, ["one"] * len(data)),
                                       np.ones(len(data))) is None


class Fixed:
    """Gives each text the probabilities written in it: "complaint 0.8" is complaint 0.8, other 0.2."""

    version, threshold, labels = "fixed", 0.5, ("complaint", "other", "pr_crisis")

    def probabilities(self, texts):
        rows = []
        for text in texts:
            label, p = text.split()[:2]
            rest = (1 - float(p)) / 2
            rows.append([float(p) if label == name else rest for name in self.labels])
        return np.array(rows)

    def classify(self, texts, langs=None):
        rows = self.probabilities(texts)
        return [Classification(self.labels[int(row.argmax())], float(row.max()), dict(zip(self.labels, row)),
                               lang) for row, lang in zip(rows, langs or [None] * len(texts))]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_the_reliability_report_and_diagram(tmp_path):
    rows = [{"text": "complaint 0.9", "label": "complaint"}] * 9 + [{"text": "complaint 0.9", "label": "other"}]
    rows += [{"text": "other 0.6", "label": "other"}] * 3 + [{"text": "other 0.6", "label": "complaint"}] * 2
    curve = reliability.measure(Fixed(), write(tmp_path / "set.jsonl", rows), "set")
    # The call's confidence: P(complaint) = 0.9, and 1 - P(complaint) = 1 - 0.2 = 0.8 for "other 0.6".
    assert curve.bins() == [(pytest.approx(0.8), pytest.approx(0.6), 5), (pytest.approx(0.9), pytest.approx(0.9), 10)]
    assert curve.ece == pytest.approx(5 / 15 * 0.2)
    assert curve.triage(0.7) == (pytest.approx(5 / 15), pytest.approx(0.9))  # top label 0.6 < 0.7: triaged
    svg = ET.fromstring(reliability.render([curve, curve], "title"))
    texts = [element.text for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "set: ECE 0.067" in texts and len(list(svg.iter("{http://www.w3.org/2000/svg}polyline"))) == 2
    assert "set" in reliability.report([curve]).splitlines()[1]


def test_false_alarms_are_counted_per_language(tmp_path):
    def mention(index: int, text: str, lang: str) -> dict:
        return {"id": str(index), "source": "twitter", "created_at": "2026-01-01T00:00:00Z", "text": text, "lang": lang}

    rows = [mention(0, "pr_crisis 0.9", "fr"), mention(1, "pr_crisis 0.5", "fr"), mention(2, "other 0.9", "fr"),
            mention(3, "other 0.9", "en")]
    total, raised, shown = false_alarms.alarms(Fixed(), [write(tmp_path / "m.jsonl", rows)], 0.55)
    assert (total, raised) == ({"fr": 3, "en": 1}, {"fr": 1})
    assert shown == [(pytest.approx(0.9), "fr", "pr_crisis 0.9")]


def test_the_shipped_model_is_calibrated_on_held_out_batches():
    manifest = Classifier.load().manifest
    assert manifest["calibration"]["method"].startswith("temperature, fitted on each seed batch held out")
    assert manifest["languages"] == ["en", "fr"]
