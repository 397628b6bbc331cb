"""`inbox-router train`: fit the classifier on labelled JSONL and write a model directory."""

import argparse
import sys
from pathlib import Path

from router.classify.training.corpus import CORRECTION_WEIGHT
from router.errors import RouterError

NAME = "train"
HELP = "Train the mention classifier (or, with --careful, the careful stage's model) on labelled JSONL files."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", action="append", required=True, metavar="FILE.jsonl",
                        help="labelled mentions (a `label` field per line); repeat for several files")
    parser.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    parser.add_argument("--correction-weight", type=_weight, default=CORRECTION_WEIGHT, metavar="W",
                        help="how many examples each agent's correction (the lines `corrections export` writes) "
                             f"counts as, in (0, 100] (default: {CORRECTION_WEIGHT:g})")
    parser.add_argument("--careful", action="store_true",
                        help="train the careful stage's model on the sentence encoder and the fast model's "
                             "out-of-fold scores (write it to models/careful-classifier to ship it)")
    parser.add_argument("--fast-model", metavar="DIR",
                        help="with --careful: the fast model it follows (default: the shipped model)")


def _weight(text: str) -> float:
    try:
        weight = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < weight <= 100:
        raise argparse.ArgumentTypeError(f"must be in (0, 100], got {text}")
    return weight


def run(args: argparse.Namespace) -> int:
    from router.classify.training.corpus import read_labelled
    from router.classify.training.train import train

    try:
        data = read_labelled(args.data, correction_weight=args.correction_weight)
        sources = [Path(p).name for p in args.data]
        if args.careful:
            return _careful(data, Path(args.out), args.fast_model, sources)
        manifest = train(data, Path(args.out), sources=sources)
    except (RouterError, OSError) as error:
        print(f"inbox-router train: {error}", file=sys.stderr)
        return 2
    holdout = manifest["metrics"]["holdout"]
    print(f"trained {manifest['version']} on {len(data)} examples {data.counts()}")
    if data.corrections:
        print(f"of which {data.corrections} agents' corrections, each weighing {args.correction_weight:g}")
    print(f"held-out macro_f1={holdout['macro_f1']:.3f} accuracy={holdout['accuracy']:.3f} "
          f"threshold={manifest['threshold']} -> {args.out}")
    return 0


def _careful(data, out: Path, fast_model: str | None, sources: list[str]) -> int:
    from router.classify.model import Classifier
    from router.classify.training import careful

    fast = Classifier.load(fast_model)
    manifest = careful.train(data, out, fast, sources)
    holdout = manifest["metrics"]["holdout"]
    print(f"trained {manifest['version']} after {fast.version} on {len(data)} examples {data.counts()}")
    print(f"held-out macro_f1={holdout['macro_f1']:.3f} accuracy={holdout['accuracy']:.3f} "
          f"temperature={manifest['temperature']:.3f} -> {out}")
    return 0
