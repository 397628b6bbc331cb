"""Throughput of batch classification on one core: prints mentions per second for tweet-length texts.

    python bench/bench_classify.py [--count 50000] [--batch 1000] [--repeat 3] [--model DIR] [--detect]

The texts come with a platform language, as X/Twitter and TripAdvisor mentions do; --detect
leaves it out, so that every text's language is detected, as for a Facebook comment.

`measure()` returns the same figure to another script.
"""

import argparse
import gc
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Pin BLAS to one thread before numpy loads, so the figure is a one-core figure.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from router.classify.model import Classifier  # noqa: E402

WORDS = (
    "flight delayed again lost bag refund hours gate crew thanks great service internet down bill "
    "charged twice hiring internship apply boycott scandal recall quote booking room available price "
    "vol annulé remboursement facture réseau panne merci chambre réservation recrutez stage "
    "@SkyLineAir @NorthTel #fail #travel https://t.co/abc123 😡 ✈️ !! ??"
).split()


def tweets(count: int, seed: int = 7) -> list[str]:
    """Synthetic mentions of 60-140 characters, the length of most real tweets."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words: list[str] = []
        target = rng.randint(60, 140)
        while sum(len(w) + 1 for w in words) < target:
            words.append(rng.choice(WORDS))
        texts.append(" ".join(words))
    return texts


@contextmanager
def one_core() -> Iterator[None]:
    """This process on one CPU while measuring; its former CPUs afterwards."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


def measure(count: int = 50_000, batch: int = 1000, repeat: int = 3, model: str | Path | None = None,
            classifier: Classifier | None = None, detect: bool = False) -> float:
    """Mentions per second classifying `count` tweets in batches of `batch` on one core, the best of `repeat` runs."""
    classifier = classifier or Classifier.load(model)
    texts = tweets(count)
    langs = None if detect else ["en"] * batch
    with one_core():
        classifier.classify(texts[:batch], langs)  # warm-up: builds the n-gram lookup tables
        # As the replay does once its routers are loaded: the collector leaves the loaded model alone.
        gc.freeze()
        best = 0.0
        for _ in range(repeat):
            start = time.perf_counter()
            for index in range(0, len(texts), batch):
                chunk = texts[index : index + batch]
                classifier.classify(chunk, langs[: len(chunk)] if langs else None)
            best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--detect", action="store_true", help="no platform language: detect every text's")
    args = parser.parse_args()
    loading = time.perf_counter()
    classifier = Classifier.load(args.model)
    load_seconds = time.perf_counter() - loading
    rate = measure(args.count, args.batch, args.repeat, classifier=classifier, detect=args.detect)
    mean_length = sum(map(len, tweets(args.count))) / args.count
    print(f"model {classifier.version}: {rate:,.0f} mentions/s on one core "
          f"(batch {args.batch}, {args.count:,} texts, mean {mean_length:.0f} chars, language "
          f"{'detected' if args.detect else 'given'}); loaded in {load_seconds:.2f} s")


if __name__ == "__main__":
    main()
