"""The processes under test: the worker and the passthrough, started alike from INBOX_* settings, then stopped."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from router.settings import REPO_ROOT, Settings, topic_settings

BENCH = Path(__file__).resolve().parent
# What a bench run changes from the defaults; everything else comes from the caller's own INBOX_* variables.
_OVERRIDDEN = ("app_id", *topic_settings(), "web_port", "config_path", "data_dir", "log_format")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def inbox_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **{f"INBOX_{name.upper()}": str(getattr(settings, name)) for name in _OVERRIDDEN}}


@contextmanager
def worker(settings: Settings, log: Path) -> Iterator[subprocess.Popen]:
    """`inbox-router worker`, ready once it says its partitions are assigned."""
    argv = [sys.executable, "-m", "router.cli", "worker"]
    with _running(argv, inbox_env(settings), log, lambda: _http_ready(settings.web_port)) as process:
        yield process


@contextmanager
def passthrough(settings: Settings, outputs: list[str], log: Path, batched: bool) -> Iterator[subprocess.Popen]:
    """The passthrough process, ready once it created its ready file."""
    ready = log.with_suffix(".ready")
    ready.unlink(missing_ok=True)
    argv = [sys.executable, str(BENCH / "passthrough.py"), "--ready-file", str(ready),
            *(["--batched"] if batched else []), *outputs]
    try:
        with _running(argv, inbox_env(settings), log, ready.exists) as process:
            yield process
    finally:
        ready.unlink(missing_ok=True)


@dataclass
class Memory:
    """A process and its children's memory: the peak of their summed PSS, and their summed high-water marks."""

    pss_mib: float = 0.0
    summed_hwm_mib: float = 0.0


class MemoryWatch:
    """Samples the proportional set size (PSS) of a process and its children, summed, while in the `with` block.

    The worker routes in child processes, so a deployment provides for all of them together. PSS counts a page
    mapped by several of them once, shared out: the routing processes map the same interpreter and numpy
    libraries as the worker. Their resident sizes summed would count those once per process; that sum of
    high-water marks is kept beside it. Memory is sampled every SAMPLE_SECONDS: it grows steadily, without spikes.
    """

    SAMPLE_SECONDS = 0.2

    def __init__(self, pid: int) -> None:
        self.pid, self.figures = pid, Memory()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "MemoryWatch":
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()
        self._take()  # a last sample, which a block shorter than SAMPLE_SECONDS would otherwise lack
        processes = [self.pid, *_children(self.pid)]
        self.figures.summed_hwm_mib = sum(_high_water_kib(process) for process in processes) / 1024

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_SECONDS):
            self._take()

    def _take(self) -> None:
        total = sum(_pss_kib(process) for process in [self.pid, *_children(self.pid)]) / 1024
        self.figures.pss_mib = max(self.figures.pss_mib, total)


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except OSError:  # it ended between listing and reading
        return 0


def _high_water_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    try:
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return children + [grandchild for child in children for grandchild in _children(child)]


@contextmanager
def _running(argv: list[str], env: dict[str, str], log: Path, ready: Callable[[], bool]) -> Iterator[subprocess.Popen]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(process, ready, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen, ready: Callable[[], bool], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise SystemExit(f"{log.stem} exited during start-up (code {process.returncode}); see {log}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{log.stem} was not ready after {timeout:.0f} s; see {log}")
        time.sleep(0.2)


def _http_ready(port: int) -> bool:
    """200 from /ready; a worker without /ready counts as ready once /metrics answers (the warm-up does the rest)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1)
        return True
    except urllib.error.HTTPError as error:
        return error.code == 404 and _answers(f"http://127.0.0.1:{port}/metrics")
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except OSError:
        return False
