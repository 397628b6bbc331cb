"""`inbox-router explain`: how one mention would be routed, route by route."""

import argparse
import sys
from pathlib import Path

from router.classify.labels import LABELS, Classification
from router.errors import RouterError
from router.mentions import decode_record
from router.rules import load_config
from router.rules.render import render_explanation

NAME = "explain"
HELP = "Explain how a mention (JSON file, or - for standard input) is classified and routed."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mention", metavar="MENTION.json", help="a mention, canonical or native payload; - reads stdin")
    parser.add_argument("--config", required=True, help="the routing config file")
    parser.add_argument("--model", type=Path, help="classifier model directory (default: the shipped model)")
    parser.add_argument("--label", choices=LABELS, help="force the label instead of running the classifier")
    parser.add_argument("--confidence", type=float, default=1.0, help="confidence of a forced label (default 1.0)")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        raw = sys.stdin.buffer.read() if args.mention == "-" else Path(args.mention).read_bytes()
        mentions = decode_record(raw)
        classifications, threshold = _classify(args, [m.text for m in mentions], config.confidence_threshold)
    except (RouterError, OSError) as error:
        print(f"explain: {error}", file=sys.stderr)
        return 1
    for index, (mention, classification) in enumerate(zip(mentions, classifications)):
        if index:
            print()
        print(f"mention {mention.id} ({mention.source}{', lang ' + mention.lang if mention.lang else ''})")
        low = classification.confidence < threshold if threshold is not None else False
        explanation = config.explain(mention, classification, low_confidence=low)
        print("\n".join(render_explanation(config, explanation, threshold)))
    return 0


def _classify(args, texts: list[str], configured: float | None) -> tuple[list[Classification], float | None]:
    """Forced labels skip the model; the threshold is the config's, else the model's."""
    if args.label:
        return [Classification.forced(args.label, args.confidence) for _ in texts], configured
    from router.classify.model import Classifier  # loading the model takes a moment: only when needed

    classifier = Classifier.load(args.model)
    return classifier.classify(texts), configured if configured is not None else classifier.threshold
