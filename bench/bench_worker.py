"""`make bench`: the worker beside a plain aiokafka passthrough, its latency and memory, and the one-core figures.

One run against the local broker, on realistic single-mention records (mixed sources, English and French,
a few malformed), each process on topics and a group of its own, deleted afterwards:
  1. the ceiling: bench/passthrough.py copying each record unchanged to as many topics as the worker writes,
     once with a plain `send` per record, once producing batches per partition as the worker does;
  2. the worker end to end (`inbox-router worker`), input topic to queues and decisions, same records,
     same publisher and collector; the worker and the plain passthrough take turns, `--rounds` times each,
     and each keeps its best run;
  3. latency, publish to decision, at a steady offered load against a fresh worker, after a few seconds of it;
  4. the worker's peak memory, its routing processes included: their proportional set sizes summed;
  5. classification alone and the offline replay on one core (bench_classify.py, bench_replay.py), and with a
     careful stage in the config, the replay through it and the careful stage alone (bench_careful.py).
Prints a table with PASS/FAIL beside each target and writes build/bench.json; exits 0 either way.

    python bench/bench_worker.py [--records 100000] [--rounds 2] [--rate 2000] [--seconds 20] [--config FILE]
"""

import argparse
import asyncio
import gc
import os
import tempfile
import uuid
from pathlib import Path

import bench_careful
import latency
import processes
from one_core import per_second
from records import Sample, samples
from report import machine, table, write
from throughput import deliver, records_per_second
from topics import changed_config, count_records, phase_settings, prefixed_config

from router.kafka_io import delete_topics_of_run, ensure_topics
from router.rules import load_config
from router.settings import REPO_ROOT, Settings

LOGS = REPO_ROOT / "build" / "bench-logs"
WARM_UP = 200  # records each process routes, untimed, before it is measured
CASCADE_RECORDS = 5_000  # replayed through the careful stage
CAREFUL_TEXTS = 300  # through the careful stage alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records for the throughput runs")
    parser.add_argument("--rate", type=float, default=2000, help="offered load of the latency run, mentions/s")
    parser.add_argument("--seconds", type=float, default=20, help="length of the latency run, after its warm-up")
    parser.add_argument("--rounds", type=int, default=2, help="throughput runs of each side; the best is kept")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config" / "router.yaml", help="routing config")
    args = parser.parse_args()
    host = machine()  # before the one-core figures pin this process to one core
    steady = int(args.rate * (latency.WARM_SECONDS + args.seconds))
    run = f"bench-{uuid.uuid4().hex[:8]}"
    print(f"{run}: preparing {args.records:,} records, then worker, passthrough, latency, classify, replay", flush=True)
    pool = samples(max(args.records, steady) + WARM_UP)
    # The records live as long as the run: this process's collections need not scan them while it times others.
    gc.collect()
    gc.freeze()
    records, warm = pool[: args.records], [sample.value for sample in pool[-WARM_UP:]]
    with tempfile.TemporaryDirectory(prefix=f"{run}-") as tmp:
        try:
            figures = _kafka_figures(run, Path(tmp), args.config, records, warm, pool[:steady], args.rate,
                                     args.rounds)
        finally:
            asyncio.run(delete_topics_of_run(Settings(), run))
    figures |= _one_core_figures(args.records, args.config)
    figures |= {"records": len(records), "malformed": sum(s.mention_id is None for s in records), "machine": host,
                "config": os.path.relpath(args.config, REPO_ROOT)}
    print(table(figures))
    print(f"wrote {write(figures).relative_to(REPO_ROOT)}")


def _kafka_figures(run: str, tmp: Path, config: Path, records: list[Sample], warm: list[bytes],
                   steady: list[Sample], rate: float, rounds: int) -> dict:
    config, queues = prefixed_config(config, run, tmp)
    values = [sample.value for sample in records]

    def settings(phase: str) -> Settings:
        return phase_settings(f"{run}-{phase}", config, tmp / "data", processes.free_port())

    # Rounds of the worker then the passthrough, each side's best kept: on a 2-core machine shared with the broker,
    # either side's rate moves by a third from one run to the next, and taking turns gives both the same chances.
    worker_runs, passthrough_runs, memories = [], [], []
    for round_ in range(1, rounds + 1):
        phase = settings(f"worker{round_}")
        worker_per_s, memory = _worker_throughput(phase, queues, values, warm)
        worker_runs.append(round(worker_per_s, 1))
        memories.append(memory)
        if round_ == 1:  # the queues are the run's, so later rounds add to what this one wrote
            fanout = asyncio.run(count_records(phase, queues | _outcomes(phase))) / (len(values) + len(warm))
            copies = max(2, round(fanout))  # at least a queue copy and a decision
        print(f"worker: {worker_per_s:,.0f} records/s, {fanout:.2f} outputs per record", flush=True)
        ceiling_per_s, ceiling_memory = _passthrough_throughput(settings(f"passthrough{round_}"), copies, values, warm)
        passthrough_runs.append(round(ceiling_per_s, 1))
        print(f"passthrough: {ceiling_per_s:,.0f} records/s, {copies} outputs per record", flush=True)
    worker_per_s, ceiling_per_s = max(worker_runs), max(passthrough_runs)
    batched_per_s, _ = _passthrough_throughput(settings("batched"), copies, values, warm, batched=True)
    print(f"passthrough producing batches as the worker does: {batched_per_s:,.0f} records/s", flush=True)
    steady_latency, latency_memory = _worker_latency(settings("latency"), queues, steady, warm, rate)
    memories.append(latency_memory)
    print(f"latency: p99 {steady_latency.p99_ms:.0f} ms at {steady_latency.offered_per_s:,.0f}/s", flush=True)
    return {
        "passthrough_per_s": round(ceiling_per_s, 1),
        "worker_per_s": round(worker_per_s, 1),
        "worker_runs_per_s": worker_runs,
        "passthrough_runs_per_s": passthrough_runs,
        "ratio": round(worker_per_s / ceiling_per_s, 3),
        "latency_ms": {"p50": round(steady_latency.p50_ms, 1), "p95": round(steady_latency.p95_ms, 1),
                       "p99": round(steady_latency.p99_ms, 1)},
        "latency": {"offered_per_s": round(steady_latency.offered_per_s, 1), "decisions": steady_latency.decisions},
        "rss_mb": round(max(memory.pss_mib for memory in memories), 1),
        "rss_summed_hwm_mb": round(max(memory.summed_hwm_mib for memory in memories), 1),
        "worker_outputs_per_record": round(fanout, 3),
        "passthrough": {"outputs_per_record": copies, "rss_mb": round(ceiling_memory.pss_mib, 1)},
        # The same passthrough producing one batch per partition, as the worker does: the worker over this
        # says how much of the ratio comes from routing rather than from producing differently.
        "passthrough_batched_per_s": round(batched_per_s, 1),
        "ratio_to_batched": round(worker_per_s / batched_per_s, 3),
    }


def _worker_throughput(settings: Settings, queues: set[str], values: list[bytes],
                       warm: list[bytes]) -> tuple[float, processes.Memory]:
    asyncio.run(ensure_topics(settings, queues | _outcomes(settings) | {settings.input_topic}))
    with processes.worker(settings, LOGS / "worker.log") as worker, processes.MemoryWatch(worker.pid) as memory:
        per_s = asyncio.run(records_per_second(settings, _outcomes(settings), values, warm))
    return per_s, memory.figures


def _passthrough_throughput(settings: Settings, copies: int, values: list[bytes], warm: list[bytes],
                            batched: bool = False) -> tuple[float, processes.Memory]:
    # The last output stands for the decision: one record on it per input, as the worker's decisions are.
    outputs = [f"{settings.app_id}.queue-{n}" for n in range(1, copies)] + [settings.decisions_topic]
    asyncio.run(ensure_topics(settings, [settings.input_topic, *outputs]))
    log = LOGS / ("passthrough-batched.log" if batched else "passthrough.log")
    with (processes.passthrough(settings, outputs, log, batched) as passthrough,
          processes.MemoryWatch(passthrough.pid) as memory):
        per_s = asyncio.run(records_per_second(settings, {settings.decisions_topic}, values, warm))
    return per_s, memory.figures


def _worker_latency(settings: Settings, queues: set[str], steady: list[Sample], warm: list[bytes],
                    rate: float) -> tuple[latency.Latency, processes.Memory]:
    """Latency of a fresh worker, one that carries no backlog from the throughput run."""
    asyncio.run(ensure_topics(settings, queues | _outcomes(settings) | {settings.input_topic}))
    with (processes.worker(settings, LOGS / "worker-latency.log") as worker,
          processes.MemoryWatch(worker.pid) as memory):
        asyncio.run(deliver(settings, _outcomes(settings), warm))
        measured = asyncio.run(latency.measure(settings, steady, rate))
    return measured, memory.figures


def _outcomes(settings: Settings) -> set[str]:
    """Where the worker writes exactly one record per input record: a decision, a dead letter, or the record
    handed to the careful lane (a config's careful_below), whose decision comes later."""
    return {settings.decisions_topic, settings.dead_letter_topic, settings.careful_topic}


def _one_core_figures(records: int, config: Path) -> dict:
    """Classification alone and the replay of the fast stage, the issue's ratio; the careful stage apart.

    The careful stage reads about 50 tweets a second on one core (its encoder's matrix products): a replay
    through it goes at the pace of its share of unsure mentions, so it is timed on a smaller archive.
    """
    classify = per_second("bench_classify")
    print(f"classify: {classify:,.0f} mentions/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-fast-") as tmp:
        fast_stage = changed_config(config, Path(tmp), lambda doc: doc.pop("careful_below", None))
        replay = per_second("bench_replay", mentions=records, config=fast_stage)
    print(f"replay: {replay:,.0f} mentions/s", flush=True)
    figures = {"classify_per_s": round(classify, 1), "replay_per_s": round(replay, 1),
               "replay_over_classify": round(replay / classify, 3)}
    if load_config(config).careful_below is not None:
        cascade = per_second("bench_replay", mentions=CASCADE_RECORDS, config=config)
        careful = bench_careful.measure(bench_careful.texts_of(None, CAREFUL_TEXTS), repeat=1)
        print(f"replay with the careful stage: {cascade:,.0f} mentions/s; careful stage: {careful:,.0f} texts/s",
              flush=True)
        figures |= {"replay_with_careful_per_s": round(cascade, 1), "careful_per_s": round(careful, 1)}
    return figures


if __name__ == "__main__":
    main()
