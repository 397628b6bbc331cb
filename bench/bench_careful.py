"""Throughput of the careful stage on one core: prints texts per second through the sentence encoder and its model.

    python bench/bench_careful.py [--count 2000] [--repeat 2] [--data FILE.jsonl]

Each text takes the careful stage whatever its fast label, so the figure is the careful lane's own: the
texts are synthetic tweets (bench_classify.py's), or the first --count texts of a JSONL file of mentions.
"""

import argparse
import json
import os
import time

# Pin BLAS to one thread before numpy loads, so the figure is a one-core figure.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from bench_classify import one_core, tweets  # noqa: E402

from router.classify.careful import CarefulModel  # noqa: E402
from router.classify.model import Classifier  # noqa: E402


def texts_of(path: str | None, count: int) -> list[str]:
    if path is None:
        return tweets(count)
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(count))]


def measure(texts: list[str], repeat: int = 2) -> float:
    """Texts per second through the careful stage alone (the fast labels it reads are computed beforehand)."""
    fast, careful = Classifier.load(), CarefulModel.load()
    labelled = fast.classify(texts)
    with one_core():
        careful.classify(texts[:32], labelled[:32])  # warm-up: loads the encoder
        best = 0.0
        for _ in range(repeat):
            start = time.perf_counter()
            careful.classify(texts, labelled)
            best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    parser.add_argument("--data", metavar="FILE.jsonl", help="real mentions instead of synthetic tweets")
    args = parser.parse_args()
    texts = texts_of(args.data, args.count)
    rate = measure(texts, args.repeat)
    mean_length = sum(map(len, texts)) / len(texts)
    print(f"careful stage: {rate:,.0f} texts/s on one core ({len(texts):,} texts, mean {mean_length:.0f} chars)")


if __name__ == "__main__":
    main()
