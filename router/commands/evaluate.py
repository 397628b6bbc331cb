"""`inbox-router evaluate`: score a model, or cross-validate the training estimator, on labelled JSONL."""

import argparse
import json
import sys

from router.errors import ModelError, RouterError

NAME = "evaluate"
HELP = "Score the shipped model (or --model DIR) on labelled JSONL, or cross-validate the pipeline with --cv K."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE.jsonl", help="labelled mentions")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation of the training pipeline")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from router.classify.model import Classifier
    from router.classify.training.corpus import read_labelled
    from router.classify.training.evaluate import cross_validate, score_model
    from router.classify.training.metrics import format_table

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
