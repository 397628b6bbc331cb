"""Replay throughput and memory: a generated 1,000,000-mention archive, streamed from disk, on one core.

Prints mentions per second and peak RSS, with RSS sampled along the way to show it stays flat.
The archive is generated into a temporary directory from the shipped samples and deleted afterwards.

    python bench/bench_replay.py [--mentions 1000000] [--format jsonl.gz|jsonl|csv] [--config FILE]
"""

import argparse
import csv
import gzip
import io
import json
import os
import resource
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Pin BLAS to one thread before numpy loads, so the figure is a one-core figure.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from router.classify.model import Classifier  # noqa: E402
from router.pipeline import Router  # noqa: E402
from router.replay.archive import read_archive, read_archives  # noqa: E402
from router.replay.engine import replay  # noqa: E402
from router.replay.summary import Summary  # noqa: E402
from router.rules import load_config  # noqa: E402
from router.settings import REPO_ROOT  # noqa: E402

SAMPLES = REPO_ROOT / "deploy" / "samples"
CSV_COLUMNS = ("id", "source", "text", "created_at", "lang", "account", "rating", "thread_id", "author_handle",
               "payload")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seeds() -> list[bytes]:
    """Every line of every shipped sample, bad ones included, as the worker would receive it."""
    paths = sorted(SAMPLES.glob("*.jsonl")) + sorted(SAMPLES.glob("*.csv")) + sorted(SAMPLES.glob("*.gz"))
    return [record.value for path in paths for record in read_archive(path)]


def variants(count: int):
    """`count` records cycling over the samples; canonical ones get a unique id and a time spread over a year."""
    base = seeds()
    for n in range(count):
        value = base[n % len(base)]
        try:
            doc = json.loads(value)
        except ValueError:
            yield value
            continue
        if isinstance(doc, dict) and "source" in doc and "created_at" in doc:
            doc["id"] = f"{doc.get('id')}-{n}"
            doc["created_at"] = (START + timedelta(seconds=31 * n)).isoformat()
            value = json.dumps(doc, ensure_ascii=False).encode()
        yield value


def generate(path: Path, count: int, fmt: str) -> None:
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_COLUMNS)
            for value in variants(count):
                writer.writerow(["", "", "", "", "", "", "", "", "", value.decode("utf-8", "replace")])
        return
    opener = (lambda: gzip.open(path, "wb", compresslevel=1)) if fmt == "jsonl.gz" else (lambda: open(path, "wb"))
    with opener() as file, io.BufferedWriter(file, 1 << 20) as out:
        for value in variants(count):
            out.write(value + b"\n")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000, help="records in the generated archive")
    parser.add_argument("--format", choices=("jsonl.gz", "jsonl", "csv"), default="jsonl.gz")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config" / "router.yaml")
    parser.add_argument("--model", type=Path, help="classifier directory (default: the shipped model)")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        archive = Path(tmp) / f"archive.{args.format}"
        started = time.perf_counter()
        generate(archive, args.mentions, args.format)
        print(f"generated {args.mentions:,} records ({archive.stat().st_size / 2**20:,.0f} MiB {args.format}) "
              f"in {time.perf_counter() - started:.0f} s")
        run(archive, args)


def run(archive: Path, args: argparse.Namespace) -> None:
    router = Router(Classifier.load(args.model), load_config(args.config))
    baseline = rss_mb()
    summary, samples, every = Summary(), [], max(args.mentions // 10, 1)
    started = time.perf_counter()
    for outcome in replay(read_archives([archive]), router, args.batch):
        summary.add(outcome)
        if summary.read % every == 0:
            samples.append(f"{summary.read // 1000:,}k: {rss_mb():.0f}")
    elapsed = time.perf_counter() - started
    s = summary.as_dict()
    print(f"model {router.classifier.version}, config {s['config_hash']}, batch {args.batch}, one core")
    print(f"replayed {s['read']:,} mentions ({s['routed']:,} routed, {s['dead_lettered']:,} dead-lettered) "
          f"in {elapsed:.1f} s: {s['read'] / elapsed:,.0f} mentions/s")
    print(f"RSS after loading model and config {baseline:.0f} MiB; peak RSS {peak_rss_mb():.0f} MiB")
    print("RSS along the way (MiB): " + ", ".join(samples))


if __name__ == "__main__":
    main()
