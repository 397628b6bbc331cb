"""The processes under test: the worker and the passthrough, started alike from INBOX_* settings, then stopped."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def peak_rss_mib(pid: int) -> float:
    """The high-water marks of resident memory so far of the process and of its children, summed.

    The worker routes in child processes: what a deployment must provide for is all of them together.
    """
    return sum(_high_water_kib(process) for process in [pid, *_children(pid)]) / 1024


def _high_water_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
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
