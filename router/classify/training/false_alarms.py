"""Share of ordinary mentions the model calls a crisis with confidence, per language: the false alarms.

    python -m router.classify.training.false_alarms --data FILE.jsonl [--data ...] [--threshold 0.55] [--show]
        [--careful-below P]

Every mention of the files is taken as ordinary (no crisis): a pr_crisis label at or above
the threshold would send it to public affairs and legal. A set that holds a few real crises
shows them with --show, to be told apart by reading.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from router.classify.careful import CarefulModel, Cascade
from router.classify.labels import CRISIS_LABEL
from router.classify.model import Classifier
from router.mentions import decode_record

DEFAULT_THRESHOLD = 0.55  # config/router.yaml's


def alarms(classifier: Classifier | Cascade, paths: list[Path], threshold: float
           ) -> tuple[Counter[str], Counter[str], list]:
    """(mentions per language, alarms per language, the alarms as (confidence, lang, text))."""
    mentions = [mention for path in paths for line in path.read_bytes().splitlines() if line.strip()
                for mention in decode_record(line)]
    results = classifier.classify([m.text for m in mentions], [m.lang for m in mentions])
    total: Counter[str] = Counter()
    raised: Counter[str] = Counter()
    shown = []
    for mention, result in zip(mentions, results):
        lang = result.lang or "unknown"
        total[lang] += 1
        if result.label == CRISIS_LABEL and result.confidence >= threshold:
            raised[lang] += 1
            shown.append((result.confidence, lang, mention.text))
    return total, raised, sorted(shown, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True, help="JSONL mentions; repeat")
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--show", action="store_true", help="print each alarm's confidence and text")
    parser.add_argument("--careful-below", type=float, metavar="P",
                        help="through the cascade: labels less confident than P take the careful stage")
    args = parser.parse_args(argv)
    fast = Classifier.load(args.model)
    classifier = fast if args.careful_below is None else Cascade(fast, CarefulModel.load(), args.careful_below)
    total, raised, shown = alarms(classifier, args.data, args.threshold)
    for lang in sorted(total, key=lambda lang: -total[lang]):
        print(f"{lang:<8} {total[lang]:>6} mentions  {raised[lang]:>4} pr_crisis >= {args.threshold:.2f}  "
              f"{raised[lang] / total[lang]:.2%}")
    if args.show:
        for confidence, lang, text in shown:
            print(json.dumps({"confidence": round(confidence, 3), "lang": lang, "text": text}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
