"""Train the careful stage's model on the fast model's out-of-fold scores and the texts' sentence vectors."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from router.classify import encoder as encoding
from router.classify.careful import LOG_FLOOR, MANIFEST_FILE, WEIGHTS_FILE, softmax
from router.classify.model import Classifier
from router.classify.training import calibration
from router.classify.training.corpus import Labelled
from router.classify.training.estimator import RANDOM_STATE, build_estimator
from router.classify.training.metrics import score
from router.classify.training.train import check, sample_weights
from router.settings import REPO_ROOT

FOLDS = 5
HOLDOUT = 0.2
# Regularisation of the head (389 features, 12,000 examples): see the model card's "Careful stage".
C = 10.0
# Names what the head is trained on and how; a change to it changes the model version.
FEATURES = ("all-MiniLM-L6-v2 mean-pooled sentence vector + fast model's log-probabilities, out of fold "
            "(seed batches held out whole); logistic regression without class weights, held-out temperature")
CACHE = REPO_ROOT / "build" / "careful"


def _digest(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def _cached(name: str, compute, cache: Path | None) -> np.ndarray:
    """An array computed once per input (the name holds its digest) and kept in `cache` (None: not kept)."""
    if cache is None:
        return compute()
    path = cache / f"{name}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    array = compute()
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, array, allow_pickle=False)
    return array


def embeddings(texts: list[str], cache: Path | None = CACHE) -> np.ndarray:
    """The sentence vectors of the texts (cached: the forward pass is the slow part of training)."""
    return _cached(f"embeddings-{_digest(encoding.WEIGHTS_SHA256, *texts)}",
                   lambda: encoding.shipped().embed(texts), cache)


def out_of_fold(data: Labelled, fast: Classifier, cache: Path | None = CACHE) -> np.ndarray:
    """Each example's fast log-probabilities (columns: fast.labels) from a fast model that never saw it.

    In-sample scores are sure of every training example; a head fitted on them learns to trust them, and
    real mentions are not so easy. A seed record is scored by the model trained without its whole batch
    (calibration.held_out_logits), as unlike its training text as a real mention; the public sets' records,
    which have no batch, by stratified folds. The scores take the fast model's temperature, as at run time.
    """
    def compute() -> np.ndarray:
        splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=RANDOM_STATE)
        weights = sample_weights(data)
        classes = sorted(set(data.labels))
        logits = calibration.logits_over(classes, classes, cross_val_predict(
            build_estimator(calibrate=False), data.texts, data.labels, cv=splitter, method="decision_function",
            params={"model__sample_weight": weights}))
        held_out = calibration.held_out_logits(data, weights)
        if held_out is not None:  # rows in batch order, each batch's records in data order
            groups = np.asarray([group or "" for group in data.groups or ()], dtype=object)
            rows = np.concatenate([np.flatnonzero(groups == batch) for batch in sorted(set(groups) - {""})])
            logits[rows] = held_out[0]
        probabilities = softmax(fast.model.temperature * logits)
        # A label the data lacks is one no fold could give: probability 0, read as the floor.
        columns = [probabilities[:, classes.index(label)] if label in classes else np.zeros(len(data))
                   for label in fast.labels]
        return np.log(np.maximum(np.column_stack(columns), LOG_FLOOR))

    return _cached(f"fast-oof-{_digest(data.sha256(), fast.version, 'batches')}", compute, cache)


def fit_head(features: np.ndarray, labels, weights: np.ndarray) -> LogisticRegression:
    # No class weights, unlike the fast model: the head only ever sees the mentions the fast model is unsure of,
    # and there the balanced prior of the rare labels turned ambiguous angry tweets into crises (false alarms
    # on ordinary tweets went from 0.5% to 1.5%; model card, "Careful stage").
    head = LogisticRegression(C=C, max_iter=3000, random_state=RANDOM_STATE)
    return head.fit(features, labels, sample_weight=weights)


def held_out_temperature(features: np.ndarray, data: Labelled, weights: np.ndarray) -> tuple[float, int]:
    """The temperature of heads fitted without each seed batch, scored on it, as the fast model is calibrated."""
    def fit_and_score(train: np.ndarray, held: np.ndarray, labels: np.ndarray):
        head = fit_head(features[train], labels[train], weights[train])
        return head.classes_, head.decision_function(features[held])

    held_out = calibration.by_batch(data, fit_and_score)
    if held_out is None:
        return 1.0, 0
    return calibration.fit_temperature(*held_out[:2]), len(held_out[1])


def holdout_metrics(features: np.ndarray, data: Labelled, weights: np.ndarray, temperature: float) -> dict:
    train_x, test_x, train_y, test_y, train_w, _ = train_test_split(
        features, data.labels, weights, test_size=HOLDOUT, stratify=data.labels, random_state=RANDOM_STATE)
    head = fit_head(train_x, train_y, train_w)
    probabilities = softmax(temperature * head.decision_function(test_x))
    classes = [str(c) for c in head.classes_]
    return score(test_y, [classes[i] for i in probabilities.argmax(axis=1)], probabilities, classes)


def train(data: Labelled, out: Path, fast: Classifier, sources: list[str] | None = None,
          cache: Path | None = CACHE) -> dict:
    """Fit the head on everything, after measuring it on a held-out split; write the manifest and weights.

    The sentence vectors and the fast model's out-of-fold scores are kept in `cache` (None: not kept),
    so that training again on the same data costs seconds.
    """
    check(data)
    weights = sample_weights(data)
    vectors = embeddings(data.texts, cache)
    features = np.hstack([vectors.astype(np.float64), out_of_fold(data, fast, cache)])
    temperature, held = held_out_temperature(features, data, weights)
    metrics = holdout_metrics(features, data, weights, temperature)
    head = fit_head(features, data.labels, weights)
    coef, intercept = head.coef_, head.intercept_
    if len(head.classes_) == 2:  # one score d for the second label: the softmax of (-d/2, d/2) is sigmoid(d)
        coef, intercept = np.vstack([-coef, coef]) / 2, np.hstack([-intercept, intercept]) / 2
    digest = data.sha256()
    version = _digest(FEATURES, str(C), digest, fast.version)[:8]
    today = dt.datetime.now(dt.timezone.utc).date()
    manifest = {
        "version": f"careful-clf-{today:%Y.%m.%d}-{version}",
        "features": FEATURES,
        "encoder": {"package": encoding.PACKAGE, "version": encoding.PACKAGE_VERSION, "file": encoding.WEIGHTS,
                    "sha256": encoding.WEIGHTS_SHA256, "weights": "sentence-transformers/all-MiniLM-L6-v2",
                    "licence": "Apache-2.0 (weights); MIT (package)", "max_tokens": encoding.MAX_TOKENS},
        "dimension": int(vectors.shape[1]),
        "labels": [str(c) for c in head.classes_],
        "fast_labels": list(fast.labels),
        "fast_model": fast.version,
        "temperature": temperature,
        "calibration": {"method": "temperature, fitted on each seed batch held out whole", "held_out_examples": held},
        "C": C,
        "training_data": {"sha256": digest, "n": len(data), "per_label": data.counts(), "files": sources or []},
        "metrics": {"holdout": metrics, "holdout_fraction": HOLDOUT, "random_state": RANDOM_STATE},
    }
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / WEIGHTS_FILE, coef=np.ascontiguousarray(coef), intercept=np.asarray(intercept))
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    (out / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
    return manifest
