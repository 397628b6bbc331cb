"""Replay throughput and memory: a generated 1,000,000-mention archive, streamed from disk, on one core and on N.

Prints mentions per second of `inbox-router replay`'s own code on one core (the process pinned to one CPU),
then with `--jobs 2` (worker start-up included), and the peak RSS of the one-core run with RSS sampled
along the way to show it stays flat. The archive is generated into a temporary directory from the shipped
samples and deleted afterwards.

    python bench/bench_replay.py [--mentions 1000000] [--format jsonl.gz|jsonl|csv] [--config FILE] [--jobs 1,2]

`measure()` returns the mentions per second of one run to another script.
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Pin BLAS to one thread before numpy loads, so the figure is a one-core figure.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from bench_classify import one_core  # noqa: E402

from router.pipeline import Router  # noqa: E402
from router.replay.archive import read_archive, read_archives  # noqa: E402
from router.replay.parts import RouterSpec, Summarise, freeze_loaded, summarise  # noqa: E402
from router.settings import REPO_ROOT  # noqa: E402

SAMPLES = REPO_ROOT / "deploy" / "samples"
DEFAULT_CONFIG = REPO_ROOT / "config" / "router.yaml"
CSV_COLUMNS = ("id", "source", "text", "created_at", "lang", "account", "rating", "thread_id", "author_handle",
               "payload")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
RSS_SAMPLES = 10


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


@dataclass
class Run:
    """One timed replay: what it counted, how long it took, and this process's RSS along the way."""

    jobs: int
    summary: dict
    seconds: float
    rss: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.summary["read"] / self.seconds


class _RssSampler:
    """Stands in for the progress line: notes this process's RSS about every tenth of the mentions."""

    def __init__(self, expected: int, rss: list[str]) -> None:
        self.every = self.next = max(expected // RSS_SAMPLES, 1)
        self.seen, self.rss = 0, rss

    def mentions_done(self, count: int) -> None:
        self.seen += count
        if self.seen >= self.next:
            self.rss.append(f"{self.seen // 1000:,}k: {rss_mb():.0f}")
            self.next += self.every


def replay_run(archive: Path, spec: RouterSpec, batch: int, jobs: int, expected: int,
               router: Router | None = None) -> Run:
    """`inbox-router replay ARCHIVE --jobs N` without output files: on one core when jobs is 1, routers loaded
    beforehand; with more, the worker processes start and load their own within the time measured."""
    task = Summarise(spec, batch, write=False, router=router if jobs == 1 else None)
    rss: list[str] = []
    started = time.perf_counter()
    summary = summarise(read_archives([archive]), task, jobs, progress=_RssSampler(expected, rss))
    return Run(jobs, summary.as_dict(), time.perf_counter() - started, rss)


def timed(archive: Path, spec: RouterSpec, batch: int, jobs: int, expected: int,
          router: Router | None = None) -> Run:
    if jobs != 1:
        return replay_run(archive, spec, batch, jobs, expected)
    router = router or spec.load()
    freeze_loaded()
    with one_core():
        return replay_run(archive, spec, batch, 1, expected, router)


def measure(mentions: int = 1_000_000, fmt: str = "jsonl.gz", config: str | Path = DEFAULT_CONFIG,
            model: str | Path | None = None, batch: int = 1000, jobs: int = 1) -> float:
    """Mentions per second replaying a generated archive of `mentions` records; on one core when jobs is 1."""
    spec = RouterSpec(Path(config), Path(model) if model else None)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        archive = Path(tmp) / f"archive.{fmt}"
        generate(archive, mentions, fmt)
        return timed(archive, spec, batch, jobs, mentions).per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000, help="records in the generated archive")
    parser.add_argument("--format", choices=("jsonl.gz", "jsonl", "csv"), default="jsonl.gz")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--model", type=Path, help="classifier directory (default: the shipped model)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time, in order")
    args = parser.parse_args()
    spec = RouterSpec(args.config, args.model)
    router = spec.load()
    baseline = rss_mb()
    print(f"model {router.classifier.version}, config {router.config.hash}, batch {args.batch}")
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        archive = Path(tmp) / f"archive.{args.format}"
        started = time.perf_counter()
        generate(archive, args.mentions, args.format)
        print(f"generated {args.mentions:,} records ({archive.stat().st_size / 2**20:,.0f} MiB {args.format}) "
              f"in {time.perf_counter() - started:.0f} s")
        for jobs in (int(n) for n in args.jobs.split(",")):
            run = timed(archive, spec, args.batch, jobs, args.mentions, router)
            s = run.summary
            where = "one core" if jobs == 1 else f"--jobs {jobs}, worker start-up included"
            print(f"replayed {s['read']:,} mentions ({s['routed']:,} routed, {s['dead_lettered']:,} dead-lettered) "
                  f"in {run.seconds:.1f} s: {run.per_second:,.0f} mentions/s ({where})")
            if jobs == 1:
                print(f"RSS after loading model and config {baseline:.0f} MiB; peak RSS {peak_rss_mb():.0f} MiB")
                print("RSS along the way (MiB): " + ", ".join(run.rss))


if __name__ == "__main__":
    main()
