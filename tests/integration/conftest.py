"""A real broker and a real worker process per test, on topics no other test uses."""

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from parity import with_careful_below
from pydantic import SecretStr

from router.kafka_io import delete_topics_of_run
from router.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SHARED_BROKER = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"


def _broker_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port():
    """Factory: a local TCP port nothing listens on, e.g. for a second worker's web server."""
    return _free_port


@pytest.fixture(scope="session")
def bootstrap_servers() -> str:
    servers = SHARED_BROKER
    host, port = servers.split(":")
    assert _broker_answers(host, int(port)), f"no Kafka broker on {servers}: run `make kafka` or `make test`"
    return servers


@pytest.fixture
def worker_settings(bootstrap_servers, tmp_path) -> Settings:
    """Settings for one test: its own app id, topics (input, outputs, conversations, crisis) and web port."""
    run = f"it-{uuid.uuid4().hex[:8]}"
    # The default config without its careful stage: a worker alone routes every mention. The careful lane's
    # tests (test_worker_careful.py) start one beside the worker, with a careful_below of their own.
    config = tmp_path / "fixture" / "router.yaml"
    config.parent.mkdir()
    config.write_text(with_careful_below(Settings.model_fields["config_path"].default.read_text(), None))
    settings = Settings.of_run(
        run,
        config_path=config,
        kafka_bootstrap_servers=bootstrap_servers,
        web_port=_free_port(),
        config_reload_seconds=0.5,
        data_dir=tmp_path / "faust",
    )
    yield settings
    # Left behind, every run's topics would add up until the broker takes minutes to start. A test's private
    # broker (test_security.py: SASL_SSL, which these plain settings cannot reach) goes away with its topics.
    if bootstrap_servers == SHARED_BROKER:
        asyncio.run(delete_topics_of_run(settings, run))


def _worker_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process these settings, the SASL password in clear."""
    env = {**os.environ, "INBOX_LOG_FORMAT": "json"}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[f"INBOX_{name.upper()}"] = str(value)
    return env


@pytest.fixture
def worker_environment():
    """Factory: the INBOX_* environment of a worker process with the given settings."""
    return _worker_environment


@pytest.fixture
def start_worker(tmp_path):
    """Factory: start `inbox-router worker` (or `command`, e.g. `careful`) with the given settings; stopped at teardown.

    Starting it again with the same settings restarts the same worker (same group, same instance id),
    e.g. after `process.kill()`; each start writes its own log in the test's temporary path.
    """
    processes = []

    def start(settings: Settings, command: str = "worker") -> subprocess.Popen:
        log = open(tmp_path / f"{command}-{len(processes)}.log", "w")
        # A session of its own, as a service manager starts it: a test may signal its whole process group.
        process = subprocess.Popen([sys.executable, "-m", "router.cli", command], cwd=REPO,
                                   env=_worker_environment(settings), start_new_session=True,
                                   stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        _wait_until_serving(process, settings.web_port, Path(log.name))
        return process

    yield start
    for process, log in processes:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path, timeout: float = 90) -> None:
    """Until /ready answers 200 (partitions assigned), or /metrics does on a worker that has no /ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"worker exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1)
            return
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return  # serving, but no readiness page to wait for
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"worker not serving after {timeout} s:\n{log.read_text()[-3000:]}")


class PrivateBroker:
    """A single-node broker of the test's own, started and stopped by deploy/kafka/kafka.sh on the shared jars."""

    def __init__(self, home: Path):
        self.port = _free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "KAFKA_HOME": str(home),
            "KAFKA_LIBS_DIR": str(Path(os.environ.get("KAFKA_HOME", REPO / ".kafka")) / "libs"),  # no download
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(_free_port()),
            "KAFKA_START_TIMEOUT": "150",  # a busy two-core machine may take over a minute
        }

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def _run(self, command: str) -> None:
        done = subprocess.run([str(REPO / "deploy" / "kafka" / "kafka.sh"), command], env=self._env,
                              capture_output=True, text=True, timeout=240)
        if done.returncode:
            pytest.fail(f"kafka.sh {command} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


@pytest.fixture
def private_broker(tmp_path):
    """A broker only this test uses, so that it may stop and start it; stopped at teardown."""
    broker = PrivateBroker(tmp_path / "kafka")
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()  # also after a failed start: kafka.sh leaves a broker that is slow to get ready running
