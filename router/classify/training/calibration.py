"""Temperature fitted on batches of the seed corpus held out whole, so that confidence holds on unseen text.

Temperature scaling on stratified folds learns how sure the model may be of examples like
its training examples; real mentions are less alike, and on them that temperature is too
sure of itself. Each batch of the seed corpus (`"batch"` in its records) was written
apart from the others, for other industries and labels: predicting each batch with a
model trained without it gives scores as far from the training text as a real mention is.
"""

import numpy as np
from scipy.optimize import minimize_scalar

from router.classify.training.corpus import Labelled
from router.classify.training.estimator import build_estimator

# The range searched for the temperature; scikit-learn searches log(beta) in (-10, 10), far wider than needed.
BOUNDS = (0.05, 20.0)


def held_out_logits(data: Labelled, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """(logits, gold column, classes) of every record of a batch, from a model trained on all but its batch.

    Records without a batch (the converted public sets) always train. None without two batches or more.
    """
    texts = np.asarray(data.texts, dtype=object)

    def fit_and_score(train: np.ndarray, held: np.ndarray, labels: np.ndarray):
        model = build_estimator(calibrate=False)
        model.fit(list(texts[train]), list(labels[train]), model__sample_weight=weights[train])
        return model.classes_, model.decision_function(list(texts[held]))

    return by_batch(data, fit_and_score)


def by_batch(data: Labelled, fit_and_score) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """(logits, gold column, classes) of each batch's records, rows in batch order, each batch in data order.

    `fit_and_score(train_mask, held_mask, labels)` fits a model on the rows of the first mask and returns its
    classes and its decision scores of the rows of the second. None without two batches or more.
    """
    groups = np.asarray([group if group is not None else "" for group in (data.groups or [])], dtype=object)
    batches = sorted(set(groups) - {""})
    if len(batches) < 2:
        return None
    labels = np.asarray(data.labels, dtype=object)
    classes = sorted(set(data.labels))
    logits, gold = [], []
    for batch in batches:
        held = groups == batch
        known, scores = fit_and_score(~held, held, labels)
        logits.append(logits_over(classes, known, scores))
        gold.append([classes.index(label) for label in labels[held]])
    return np.vstack(logits), np.concatenate(gold), classes


def logits_over(classes: list[str], known, scores) -> np.ndarray:
    """A model's decision scores as one column per label of `classes`; -inf for a label it was not trained on."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:  # two labels: scikit-learn's temperature reads the score d as the logits (-d, d)
        scores = np.column_stack([-scores, scores])
    full = np.full((len(scores), len(classes)), -np.inf)  # a label missing from the training folds: never
    full[:, [classes.index(str(c)) for c in known]] = scores
    return full


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The factor t minimising the log loss of softmax(t * logits) against the gold columns."""
    finite = np.where(np.isfinite(logits), logits, 0.0)
    missing = ~np.isfinite(logits)

    def loss(t: float) -> float:
        z = t * finite
        z[missing] = -np.inf
        z -= z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(gold)), gold]))

    return float(minimize_scalar(loss, bounds=BOUNDS, method="bounded", options={"xatol": 1e-6}).x)


def set_temperature(pipeline, temperature: float) -> None:
    """Replace the temperature of a pipeline calibrated by build_estimator(): one model, one calibrator."""
    [calibrated] = pipeline.named_steps["model"].calibrated_classifiers_
    [calibrator] = calibrated.calibrators
    calibrator.beta_ = np.float64(temperature)


def temperature(pipeline) -> float:
    [calibrated] = pipeline.named_steps["model"].calibrated_classifiers_
    [calibrator] = calibrated.calibrators
    return float(calibrator.beta_)
