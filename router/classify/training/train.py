"""Fit the pipeline on labelled data, measure it on a held-out split, and write the artifact."""

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from router.classify import artifact
from router.classify.training import calibration
from router.classify.training.corpus import Labelled
from router.classify.training.estimator import PIPELINE, RANDOM_STATE, build_estimator
from router.classify.training.metrics import score
from router.errors import ModelError

HOLDOUT = 0.2
TARGET_PRECISION = 0.9  # accuracy wanted above the abstention threshold on held-out data
THRESHOLD_RANGE = (0.5, 0.8)
# A language with fewer training examples than this is not one the model is said to know: its mentions are
# flagged unsupported_language and triaged.
MIN_LANGUAGE_EXAMPLES = 100


def check(data: Labelled) -> None:
    """Refuse data too thin to train on: fewer than two labels, or fewer than 10 examples of one."""
    counts = data.counts()
    if len(counts) < 2:
        raise ModelError(f"training needs at least two labels, got {counts}")
    # Calibration and the held-out split both stratify: each label needs a few examples.
    scarce = {label: n for label, n in counts.items() if n < 10}
    if scarce:
        raise ModelError(f"too few examples to train on for {scarce}; at least 10 per label are needed")


def sample_weights(data: Labelled) -> np.ndarray:
    return np.asarray(data.weights if data.weights is not None else [1.0] * len(data), dtype=float)


def fit(texts, labels, weights: np.ndarray | None = None):
    """The project's pipeline fitted on weighted examples."""
    pipeline = build_estimator()
    if weights is None:
        return pipeline.fit(texts, labels)
    return pipeline.fit(texts, labels, model__sample_weight=np.asarray(weights, dtype=float))


def choose_threshold(confidence: np.ndarray, correct: np.ndarray) -> float:
    """The lowest confidence above which held-out predictions are right TARGET_PRECISION of the time."""
    low, high = THRESHOLD_RANGE
    for threshold in np.arange(low, high + 1e-9, 0.05):
        kept = confidence >= threshold
        if kept.sum() and correct[kept].mean() >= TARGET_PRECISION:
            return round(float(threshold), 2)
    return high


def holdout_metrics(data: Labelled, held_out_temperature: float | None = None) -> tuple[dict, float]:
    """Metrics of a model fitted on 80% and scored on the other 20%, and the threshold chosen there.

    With `held_out_temperature`, the model is calibrated as the shipped one is (see calibration.py).
    """
    train_x, test_x, train_y, test_y, train_w, _ = train_test_split(
        data.texts, data.labels, sample_weights(data), test_size=HOLDOUT, stratify=data.labels,
        random_state=RANDOM_STATE)
    pipeline = fit(train_x, train_y, train_w)
    if held_out_temperature is not None:
        calibration.set_temperature(pipeline, held_out_temperature)
    probabilities = pipeline.predict_proba(test_x)
    classes = [str(c) for c in pipeline.classes_]
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    metrics = score(test_y, predicted)
    confidence = probabilities.max(axis=1)
    correct = np.asarray(predicted) == np.asarray(test_y)
    threshold = choose_threshold(confidence, correct)
    metrics["threshold_coverage"] = float((confidence >= threshold).mean())
    metrics["expected_calibration_error"] = expected_calibration_error(confidence, correct)
    return metrics, threshold


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(gap)


def train(data: Labelled, out: Path, sources: list[str] | None = None) -> dict:
    """Fit on everything after measuring on a held-out split; write model.skops and manifest.json."""
    check(data)
    held_out = calibration.held_out_logits(data, sample_weights(data))
    held_out_temperature = calibration.fit_temperature(*held_out[:2]) if held_out is not None else None
    metrics, threshold = holdout_metrics(data, held_out_temperature)
    pipeline = fit(data.texts, data.labels, sample_weights(data))
    stratified_temperature = calibration.temperature(pipeline)
    if held_out_temperature is not None:
        calibration.set_temperature(pipeline, held_out_temperature)
    digest = data.sha256()
    # The same data through another pipeline is another model: the version names both.
    model_digest = hashlib.sha256(f"{PIPELINE}\n{digest}".encode()).hexdigest()
    today = dt.datetime.now(dt.timezone.utc).date()
    manifest = {
        "version": f"mention-clf-{today:%Y.%m.%d}-{model_digest[:8]}",
        "pipeline": PIPELINE,
        "labels": [str(c) for c in pipeline.classes_],
        "languages": data.languages(MIN_LANGUAGE_EXAMPLES),
        "threshold": threshold,
        "versions": artifact.versions(),
        "training_data": {"sha256": digest, "n": len(data), "per_label": data.counts(), "files": sources or []},
        "metrics": {"holdout": metrics, "holdout_fraction": HOLDOUT, "random_state": RANDOM_STATE},
        "calibration": {
            "method": "temperature, fitted on each seed batch held out whole" if held_out is not None
            else "temperature, fitted on stratified out-of-fold scores",
            "temperature": calibration.temperature(pipeline),
            "temperature_stratified_folds": stratified_temperature,
            "held_out_examples": int(len(held_out[1])) if held_out is not None else 0,
        },
    }
    artifact.save(pipeline, manifest, out)
    return manifest
