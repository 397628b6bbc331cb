"""The bench's verdict: a table with PASS/FAIL beside each target, and build/bench.json."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from router.settings import REPO_ROOT

BENCH_JSON = REPO_ROOT / "build" / "bench.json"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: float
    limit: float
    at_least: bool  # False: at most

    @property
    def passed(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def describe(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.limit:g}  {'PASS' if self.passed else 'FAIL'}"


def targets(figures: dict) -> list[Target]:
    """The performance issue's targets."""
    return [
        Target("ratio", figures["ratio"], 0.5, at_least=True),
        Target("latency_p99_ms", figures["latency_ms"]["p99"], 100, at_least=False),
        Target("replay_over_classify", figures["replay_over_classify"], 0.75, at_least=True),
        Target("rss_mb", figures["rss_mb"], 400, at_least=False),
    ]


def machine() -> dict:
    """What the figures were measured on; the load average says how busy it was."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_model": model,
            "loadavg_1min_at_start": round(os.getloadavg()[0], 2)}


def write(figures: dict) -> Path:
    verdicts = {target.name: target.passed for target in targets(figures)}
    BENCH_JSON.parent.mkdir(parents=True, exist_ok=True)
    BENCH_JSON.write_text(json.dumps({**figures, "targets_passed": verdicts}, indent=2) + "\n")
    return BENCH_JSON


def table(figures: dict) -> str:
    verdict = {target.name: target.describe() for target in targets(figures)}
    latency, ceiling = figures["latency_ms"], figures["passthrough"]
    lines = [
        ("passthrough ceiling, end to end", f"{figures['passthrough_per_s']:,.0f} records/s",
         f"{ceiling['outputs_per_record']} outputs per record"),
        ("worker, end to end", f"{figures['worker_per_s']:,.0f} records/s",
         f"{figures['worker_outputs_per_record']:.2f} outputs per record"),
        ("worker / passthrough", f"{figures['ratio']:.2f}", verdict["ratio"]),
        ("passthrough producing batches as the worker", f"{figures['passthrough_batched_per_s']:,.0f} records/s",
         f"worker / it: {figures['ratio_to_batched']:.2f}"),
        (f"latency at {figures['latency']['offered_per_s']:,.0f}/s, p50 / p95 / p99",
         f"{latency['p50']:.0f} / {latency['p95']:.0f} / {latency['p99']:.0f} ms", "p99 " + verdict["latency_p99_ms"]),
        ("classify alone, one core", f"{figures['classify_per_s']:,.0f} mentions/s", ""),
        ("offline replay of the fast stage, one core", f"{figures['replay_per_s']:,.0f} mentions/s", ""),
        ("replay / classify", f"{figures['replay_over_classify']:.2f}", verdict["replay_over_classify"]),
        *([("offline replay with the careful stage, one core", f"{figures['replay_with_careful_per_s']:,.0f} "
            "mentions/s", ""), ("careful stage alone, one core", f"{figures['careful_per_s']:,.0f} texts/s", "")]
          if "careful_per_s" in figures else []),
        ("worker peak memory (summed PSS), routing processes included", f"{figures['rss_mb']:.0f} MiB",
         verdict["rss_mb"]),
        ("  their resident high-water marks summed, shared pages each time", f"{figures['rss_summed_hwm_mb']:.0f} MiB",
         ""),
    ]
    host = figures["machine"]
    head = (f"{figures['records']:,} records ({figures['malformed']:,} malformed), {host['nproc']} CPUs "
            f"({host['cpu_model']}), load {host['loadavg_1min_at_start']} at start")
    width = max(len(name) for name, *_ in lines)
    return "\n".join([head, *(f"  {name:<{width}}  {value:>22}  {note}".rstrip() for name, value, note in lines)])
