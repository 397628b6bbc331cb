"""Measure a model on labelled data, or cross-validate the estimator: the metrics `inbox-router evaluate` prints."""

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from router.classify.careful import Cascade
from router.classify.labels import CAREFUL_STAGE, Classification
from router.classify.model import Classifier
from router.classify.training.corpus import Labelled
from router.classify.training.estimator import RANDOM_STATE, build_estimator
from router.classify.training.metrics import score
from router.errors import ModelError


def score_model(classifier: Classifier, data: Labelled) -> dict:
    """Metrics of a fitted model; a gold label it cannot predict is an error, not a silent zero."""
    unknown = sorted(set(data.labels) - set(classifier.labels))
    if unknown:
        raise ModelError(
            f"the data has labels the model {classifier.version} does not know: {', '.join(unknown)} "
            f"(model labels: {', '.join(classifier.labels)})"
        )
    probabilities = classifier.probabilities(data.texts)
    predicted = [classifier.labels[i] for i in probabilities.argmax(axis=1)]
    result = score(data.labels, predicted, probabilities, classifier.labels)
    result["model"] = classifier.version
    return result


def score_cascade(cascade: Cascade, data: Labelled) -> dict:
    """Metrics of the labels routing would use, and of the fast stage alone on the same texts; the share of
    texts the careful stage looked at again."""
    fast, final = cascade.stages(data.texts, data.langs)
    labels = list(cascade.careful.labels)
    result = _score_labelled(final, labels, data)
    result["fast"] = _score_labelled(fast, labels, data)
    result["careful_share"] = float(np.mean([c.stage == CAREFUL_STAGE for c in final])) if final else 0.0
    result["careful_below"] = cascade.below
    result["model"] = cascade.version
    return result


def _score_labelled(labelled: list[Classification], labels: list[str], data: Labelled) -> dict:
    probabilities = np.array([[c.scores.get(label, 0.0) for label in labels] for c in labelled])
    return score(data.labels, [c.label for c in labelled], probabilities, labels)


def cross_validate(data: Labelled, folds: int) -> dict:
    """Stratified K-fold of build_estimator(); each text is predicted by a model that never saw it."""
    counts = data.counts()
    if folds < 2 or min(counts.values()) < folds:
        raise ModelError(f"--cv {folds} needs K >= 2 and at least K examples per label, got {counts}")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=RANDOM_STATE)
    # Fewer calibration folds than usual: calibration never changes the label, only confidences.
    # Weighted records (converted public sets) are cross-validated as they would be trained.
    weights = data.weights or []
    params = {"model__sample_weight": np.asarray(weights)} if any(w != 1.0 for w in weights) else None
    probabilities = cross_val_predict(
        build_estimator(folds=3), data.texts, data.labels, cv=splitter, method="predict_proba", n_jobs=1,
        params=params,
    )
    classes = sorted(set(data.labels))  # cross_val_predict orders columns like the estimator: sorted
    predicted = [classes[i] for i in np.asarray(probabilities).argmax(axis=1)]
    result = score(data.labels, predicted, probabilities, classes)
    result["cv"] = folds
    return result
