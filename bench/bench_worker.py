"""End-to-end worker throughput against the local broker: publish N mentions, time until every decision is out.

Starts `inbox-router worker` on topics of its own, feeds it records cycled from the shipped samples (bad
ones included), and prints records per second from the first publish to the last decision or dead letter,
and the worker's peak RSS. Needs a broker: `make bench` starts one.

    python bench/bench_worker.py [--records 50000]
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from bench_replay import variants

from router.kafka_io import Collector, ensure_topics, publish
from router.settings import REPO_ROOT, Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_worker(settings: Settings) -> subprocess.Popen:
    env = {**os.environ, "INBOX_APP_ID": settings.app_id, "INBOX_INPUT_TOPIC": settings.input_topic,
           "INBOX_DECISIONS_TOPIC": settings.decisions_topic, "INBOX_DEAD_LETTER_TOPIC": settings.dead_letter_topic,
           "INBOX_WEB_PORT": str(settings.web_port), "INBOX_LOG_FORMAT": "json"}
    worker = subprocess.Popen([sys.executable, "-m", "router.cli", "worker"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=1)
            return worker
        except OSError:
            if worker.poll() is not None:
                raise SystemExit("the worker exited during start-up") from None
            time.sleep(0.2)
    raise SystemExit("the worker did not start")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _measure(settings: Settings, records: list[bytes]) -> float:
    watched = {settings.decisions_topic, settings.dead_letter_topic}
    async with Collector(settings, watched) as collector:
        started = time.perf_counter()
        await publish(settings, settings.input_topic, ((None, value) for value in records))
        received = await collector.collect(len(records), watched, timeout=600)
        elapsed = time.perf_counter() - started
    if len(received) < len(records):
        raise SystemExit(f"only {len(received)} of {len(records)} outcomes arrived")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    run = f"bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(app_id=run, input_topic=f"{run}.mentions", decisions_topic=f"{run}.decisions",
                        dead_letter_topic=f"{run}.dead-letter", web_port=_free_port())
    # One outcome per record: keep only single-mention records so the count to wait for is exact.
    records = [value for value in variants(args.records * 2) if b'"entry"' not in value][: args.records]
    asyncio.run(ensure_topics(settings, [settings.input_topic]))
    worker = _start_worker(settings)
    try:
        elapsed = asyncio.run(_measure(settings, records))
        rss = _peak_rss_mib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"worker end to end: {len(records):,} records in {elapsed:.1f} s = {len(records) / elapsed:,.0f} records/s"
          f" (publish, route, produce, collect); worker peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
