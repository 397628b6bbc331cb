"""`inbox-router classify`: label JSONL mentions offline, one JSON line out per mention, no Kafka."""

import argparse
import json
import sys
from collections.abc import Iterator

from router.classify.careful import for_config
from router.classify.classifier import load_model
from router.errors import InvalidMention, RouterError
from router.mentions import decode_record
from router.pipeline import Router
from router.rules import load_config
from router.settings import get_settings

NAME = "classify"
HELP = "Classify JSONL mentions (canonical or native payloads) from FILE or stdin; one JSON line per mention."
BATCH = 1000  # big enough for the vectorised features to pay off, small enough to stream


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="JSONL input (default: stdin)")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the shipped model)")
    parser.add_argument("--config", metavar="FILE", help="routing config whose confidence threshold flags low "
                                                         "confidence, as the worker does (default: INBOX_CONFIG_PATH)")


def _records(handle) -> Iterator[tuple[int, list | str]]:
    """(line number, mentions) or (line number, error reason) per non-blank input line."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, decode_record(line.rstrip(b"\r\n"))
        except InvalidMention as error:
            yield number, str(error)


def _flush(router: Router, pending: list, out) -> None:
    """Classify the mentions of a batch and write the lines in input order."""
    mentions = [m for _, item in pending if not isinstance(item, str) for m in item]
    results = iter(router.classifier.classify([m.text for m in mentions], [m.lang for m in mentions]))
    for number, item in pending:
        if isinstance(item, str):
            out.write(json.dumps({"line": number, "error": item}) + "\n")
            continue
        for mention in item:
            result = next(results)
            ruling = router.config.route(mention, result, classifier=router.classifier)
            out.write(json.dumps({
                "id": mention.id,
                "label": result.label,
                "confidence": round(result.confidence, 4),
                "scores": {label: round(p, 4) for label, p in result.scores.items()},
                "low_confidence": ruling.low_confidence,
                "low_confidence_reason": result.low_confidence_reason(ruling.low_confidence),
                "lang": result.lang,
                "stage": result.stage,
            }, ensure_ascii=False) + "\n")
    pending.clear()


def classify_stream(router: Router, handle, out) -> None:
    pending: list = []
    for record in _records(handle):
        pending.append(record)
        if len(pending) >= BATCH:
            _flush(router, pending, out)
    _flush(router, pending, out)
    out.flush()


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config or get_settings().config_path)
        router = Router(for_config(load_model(args.model), config), config)
        if args.file == "-":
            classify_stream(router, sys.stdin.buffer, sys.stdout)
        else:
            with open(args.file, "rb") as handle:
                classify_stream(router, handle, sys.stdout)
    except (RouterError, OSError) as error:
        print(f"inbox-router classify: {error}", file=sys.stderr)
        return 2
    return 0
