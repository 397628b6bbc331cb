"""`inbox-router evaluate`: score a model, or cross-validate the training estimator, on labelled JSONL."""

import argparse
import json
import sys
from typing import TYPE_CHECKING

from router.errors import ModelError, RouterError

if TYPE_CHECKING:
    from router.classify.model import Classifier

NAME = "evaluate"
HELP = "Score the shipped model (or --model DIR) on labelled JSONL, or cross-validate the pipeline with --cv K."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="FILE.jsonl", help="labelled mentions")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation of the training pipeline")
    parser.add_argument("--corrections", metavar="FILE.jsonl",
                        help="agents' corrections (`corrections export`): the share the model gets right, per week "
                             "of correction, beside the share the model that routed them got right")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from router.classify.model import Classifier
    from router.classify.training.corpus import read_labelled
    from router.classify.training.evaluate import cross_validate, score_model
    from router.classify.training.metrics import format_table
    from router.classify.training.overtime import format_over_time

    try:
        if args.cv is not None and (args.model or args.corrections):
            raise ModelError("--cv trains its own models: it cannot be combined with --model or --corrections")
        if args.data is None and args.corrections is None:
            raise ModelError("give --data, --corrections or both")
        result: dict = {}
        if args.data is not None:
            data = read_labelled([args.data])
            if len(data) == 0:
                raise ModelError(f"{args.data} holds no labelled example")
            result = cross_validate(data, args.cv) if args.cv is not None else score_model(
                Classifier.load(args.model), data)
        if args.corrections is not None:
            result["corrections"] = _corrections(Classifier.load(args.model), args.corrections)
    except (RouterError, OSError) as error:
        print(f"inbox-router evaluate: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    tables = [format_table(result)] if args.data is not None else []
    print("\n\n".join([*tables, *([format_over_time(result["corrections"])] if args.corrections else [])]))
    return 0


def _corrections(classifier: "Classifier", path: str) -> dict:
    from router.classify.training.corpus import read_labelled
    from router.classify.training.overtime import over_time, read_corrected

    data = read_labelled([path])
    if len(data) == 0:
        raise ModelError(f"{path} holds no correction")
    probabilities = classifier.probabilities(data.texts)
    predicted = [classifier.labels[i] for i in probabilities.argmax(axis=1)]
    return over_time(read_corrected(path), data.labels, predicted, classifier.version)
