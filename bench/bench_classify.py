"""Throughput of batch classification on one core: prints mentions per second for tweet-length texts."""

import argparse
import os
import random
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    loading = time.perf_counter()
    classifier = Classifier.load(args.model)
    load_seconds = time.perf_counter() - loading
    texts = tweets(args.count)
    classifier.classify(texts[: args.batch])  # warm-up: builds the n-gram lookup tables
    best = 0.0
    for _ in range(args.repeat):
        start = time.perf_counter()
        for index in range(0, len(texts), args.batch):
            classifier.classify(texts[index : index + args.batch])
        best = max(best, len(texts) / (time.perf_counter() - start))
    mean_length = sum(map(len, texts)) / len(texts)
    print(f"model {classifier.version}: {best:,.0f} mentions/s on one core "
          f"(batch {args.batch}, {len(texts):,} texts, mean {mean_length:.0f} chars); loaded in {load_seconds:.2f} s")


if __name__ == "__main__":
    main()
