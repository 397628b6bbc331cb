"""`inbox-router evaluate`: score a model, or cross-validate the training pipeline, on labelled JSONL."""

import argparse
import json
import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from router.classify.corpus import Labelled, read_labelled
from router.classify.estimator import RANDOM_STATE, build_estimator
from router.classify.metrics import format_table, score
from router.classify.model import Classifier
from router.errors import ModelError, RouterError

NAME = "evaluate"
HELP = "Score the shipped model (or --model DIR) on labelled JSONL, or cross-validate the pipeline with --cv K."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE.jsonl", help="labelled mentions")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation of the training pipeline")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


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


def run(args: argparse.Namespace) -> int:
    try:
        if args.cv is not None and args.model:
            raise ModelError("--cv trains its own models: it cannot be combined with --model")
        data = read_labelled([args.data])
        if len(data) == 0:
            raise ModelError(f"{args.data} holds no labelled example")
        if args.cv is not None:
            result = cross_validate(data, args.cv)
        else:
            result = score_model(Classifier.load(args.model), data)
    except (RouterError, OSError) as error:
        print(f"inbox-router evaluate: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True) if args.json else format_table(result))
    return 0
