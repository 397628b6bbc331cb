"""`inbox-router evaluate`: score a model, or cross-validate the training estimator, on labelled JSONL."""

import argparse
import json
import sys
from pathlib import Path
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
    parser.add_argument("--careful-below", type=float, metavar="P",
                        help="score the cascade: labels less confident than P take the careful stage (as a "
                             "config's careful_below); the fast stage's scores are reported beside")
    parser.add_argument("--careful-model", type=Path, metavar="DIR",
                        help="with --careful-below: the careful model directory (default: the shipped one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from router.classify.model import Classifier
    from router.classify.training.corpus import read_labelled
    from router.classify.training.evaluate import cross_validate
    from router.classify.training.overtime import format_over_time

    try:
        if args.cv is not None and (args.model or args.corrections):
            raise ModelError("--cv trains its own models: it cannot be combined with --model or --corrections")
        if args.cv is not None and args.careful_below is not None:
            raise ModelError("--cv cross-validates the fast pipeline: it cannot be combined with --careful-below")
        if args.careful_below is not None and not 0 <= args.careful_below <= 1:
            raise ModelError(f"--careful-below must be within 0 and 1, got {args.careful_below}")
        if args.data is None and args.corrections is None:
            raise ModelError("give --data, --corrections or both")
        result: dict = {}
        if args.data is not None:
            data = read_labelled([args.data])
            if len(data) == 0:
                raise ModelError(f"{args.data} holds no labelled example")
            result = cross_validate(data, args.cv) if args.cv is not None else _score(args, data)
        if args.corrections is not None:
            result["corrections"] = _corrections(Classifier.load(args.model), args.corrections)
    except (RouterError, OSError) as error:
        print(f"inbox-router evaluate: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    tables = [_table(result)] if args.data is not None else []
    print("\n\n".join([*tables, *([format_over_time(result["corrections"])] if args.corrections else [])]))
    return 0


def _score(args: argparse.Namespace, data) -> dict:
    """The model's scores, or the cascade's (with the fast stage's beside) when --careful-below is given."""
    from router.classify.careful import CarefulModel, Cascade
    from router.classify.model import Classifier
    from router.classify.training.evaluate import score_cascade, score_model

    fast = Classifier.load(args.model)
    if args.careful_below is None:
        return score_model(fast, data)
    return score_cascade(Cascade(fast, CarefulModel.load(args.careful_model), args.careful_below), data)


def _table(result: dict) -> str:
    from router.classify.training.metrics import format_table

    if "fast" not in result:
        return format_table(result)
    share = f"{result['careful_share']:.1%} of texts took the careful stage (careful_below {result['careful_below']})"
    return "\n\n".join([f"fast stage alone:\n{format_table(result['fast'])}",
                         f"with the careful stage:\n{format_table(result)}", share])


def _corrections(classifier: "Classifier", path: str) -> dict:
    from router.classify.training.corpus import read_labelled
    from router.classify.training.overtime import over_time, read_corrected

    data = read_labelled([path])
    if len(data) == 0:
        raise ModelError(f"{path} holds no correction")
    probabilities = classifier.probabilities(data.texts)
    predicted = [classifier.labels[i] for i in probabilities.argmax(axis=1)]
    return over_time(read_corrected(path), data.labels, predicted, classifier.version)
