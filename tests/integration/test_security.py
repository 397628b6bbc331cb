"""The worker over SASL_SSL with SCRAM-SHA-512, against a private broker with its own certificate authority."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from router.kafka_io import Collector, publish
from router.settings import Settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"
# The jars the local broker already resolved: the private broker borrows them instead of downloading its own.
KAFKA_LIBS = Path(os.environ.get("KAFKA_HOME", REPO / ".kafka")) / "libs"
BROKER_USER = "broker"  # inter-broker traffic and the readiness check of kafka.sh
WORKER_USER = "inbox-router"

MENTIONS = [
    (b"sec-1", b'{"id": "sec-1", "source": "twitter", "created_at": "2026-11-20T10:00:00Z", '
               b'"text": "My flight was cancelled and nobody answers the phone, I want a refund now"}'),
    (b"sec-2", b'{"id": "sec-2", "source": "facebook", "created_at": "2026-11-20T10:00:00Z", '
               b'"text": "Bonjour, est-ce que vous embauchez? Je cherche un emploi de cuisinier"}'),
    (b"sec-3", b'{"id": "sec-3", "source": "tripadvisor", "created_at": "2026-11-20T10:00:00Z", "rating": 1, '
               b'"text": "Filthy room and rude staff, the manager refused to refund us. Terrible stay."}'),
]


@dataclass(frozen=True)
class SecureBroker:
    bootstrap_servers: str
    cafile: Path
    password: str  # the worker user's


def _free_ports(count: int) -> list[int]:
    """Local ports nothing listens on, all different: every socket stays bound until all ports are picked."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _keytool(*commands: tuple[str | Path, ...]) -> None:
    """Run keytool commands side by side (they never write the same file), and wait for all of them."""
    java_home = os.environ.get("JAVA_HOME")
    keytool = Path(java_home, "bin", "keytool") if java_home else shutil.which("keytool") or "keytool"
    # A short-lived JVM starts twice as fast without the optimising compiler, as kafka.sh runs its tools.
    fast = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")
    processes = [subprocess.Popen([keytool, *fast, *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for args in commands]
    for process, args in zip(processes, commands):
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"keytool {args[0]} failed:\n{output}"


def _make_tls(folder: Path, storepass: str) -> tuple[Path, Path, Path]:
    """A CA, the broker's PKCS12 keystore signed by it for 127.0.0.1, a truststore; and the CA as PEM for clients."""
    ca, keystore, truststore = folder / "ca.p12", folder / "broker.p12", folder / "truststore.p12"
    ca_pem, request, signed = folder / "ca.pem", folder / "broker.csr", folder / "broker.pem"
    store = ("-storetype", "PKCS12", "-storepass", storepass)
    # EC keys: generated in milliseconds, where RSA would take seconds. Valid from yesterday on, so that no
    # clock rounding makes a fresh certificate "not yet valid".
    validity = ("-validity", "2", "-startdate", "-1d")
    _keytool(("-genkeypair", "-keystore", ca, *store, "-alias", "ca", "-keyalg", "EC", *validity,
              "-dname", "CN=inbox-router test CA", "-ext", "bc:c", "-ext", "KeyUsage:critical=keyCertSign,cRLSign"),
             ("-genkeypair", "-keystore", keystore, *store, "-alias", "broker", "-keyalg", "EC", *validity,
              "-dname", "CN=localhost"))
    _keytool(("-exportcert", "-rfc", "-keystore", ca, *store, "-alias", "ca", "-file", ca_pem),
             ("-certreq", "-keystore", keystore, *store, "-alias", "broker", "-file", request))
    # The signed certificate replaces the self-signed one only once its issuer is in the keystore.
    _keytool(("-gencert", "-keystore", ca, *store, "-alias", "ca", "-infile", request, "-outfile", signed, "-rfc",
              *validity, "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "EKU=serverAuth,clientAuth"),
             ("-importcert", "-keystore", keystore, *store, "-alias", "ca", "-file", ca_pem, "-noprompt"),
             ("-importcert", "-keystore", truststore, *store, "-alias", "ca", "-file", ca_pem, "-noprompt"))
    _keytool(("-importcert", "-keystore", keystore, *store, "-alias", "broker", "-file", signed))
    return keystore, truststore, ca_pem


def _scram_login(user: str, password: str) -> str:
    return f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";'


def _broker_properties(port: int, controller_port: int, keystore: Path, truststore: Path, storepass: str,
                       broker_password: str) -> str:
    """What the private broker changes in the template: SASL_SSL for clients and brokers alike."""
    # The controller listener stays PLAINTEXT on the loopback: only this node's own broker talks to it.
    listeners = f"SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
    return "\n".join([
        f"listeners={listeners}",
        f"advertised.listeners={listeners}",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
        "inter.broker.listener.name=SASL_SSL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={_scram_login(BROKER_USER, broker_password)}",
        f"ssl.keystore.location={keystore}",
        "ssl.keystore.type=PKCS12",
        f"ssl.keystore.password={storepass}",
        f"ssl.truststore.location={truststore}",
        "ssl.truststore.type=PKCS12",
        f"ssl.truststore.password={storepass}",
        "",
    ])


def _tools_properties(truststore: Path, storepass: str, broker_password: str) -> str:
    """How kafka.sh's tools (the readiness check) reach the SASL_SSL listener."""
    return "\n".join([
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        f"sasl.jaas.config={_scram_login(BROKER_USER, broker_password)}",
        f"ssl.truststore.location={truststore}",
        "ssl.truststore.type=PKCS12",
        f"ssl.truststore.password={storepass}",
        "",
    ])


def _kafka_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(KAFKA_SH), command], env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory) -> SecureBroker:
    """A private single-node broker whose one client listener is SASL_SSL; stopped when the module ends."""
    home = tmp_path_factory.mktemp("secure-kafka")
    storepass, broker_password, worker_password = (secrets.token_hex(16) for _ in range(3))
    keystore, truststore, ca_pem = _make_tls(home, storepass)
    port, controller_port = _free_ports(2)
    (home / "extra.properties").write_text(
        _broker_properties(port, controller_port, keystore, truststore, storepass, broker_password))
    (home / "tools.properties").write_text(_tools_properties(truststore, storepass, broker_password))
    env = {
        **os.environ,
        "KAFKA_HOME": str(home),
        "KAFKA_LIBS_DIR": str(KAFKA_LIBS),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "KAFKA_START_TIMEOUT": "150",  # a TLS broker on a busy two-core machine may take over a minute
        "KAFKA_EXTRA_PROPERTIES": str(home / "extra.properties"),
        "KAFKA_CLIENT_CONFIG": str(home / "tools.properties"),
        "KAFKA_ADD_SCRAM": "\n".join(f"SCRAM-SHA-512=[name={user},password={password}]" for user, password in
                                     [(BROKER_USER, broker_password), (WORKER_USER, worker_password)]),
    }
    try:
        started = _kafka_sh("start", env)
        assert started.returncode == 0, f"the SASL_SSL broker did not start:\n{started.stdout}\n{started.stderr}"
        yield SecureBroker(f"127.0.0.1:{port}", ca_pem, worker_password)
    finally:
        # Also after a failed start: kafka.sh leaves a broker that is slow to get ready running.
        stopped = _kafka_sh("stop", env)
        assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
def bootstrap_servers(secure_broker) -> str:
    """The worker settings of this module point at the private broker, not the shared one."""
    return secure_broker.bootstrap_servers


def _over_sasl_ssl(settings: Settings, broker: SecureBroker, password: str) -> Settings:
    """The settings the README documents for SASL_SSL with SCRAM-SHA-512, on top of a test's own topics."""
    return Settings(**{
        **settings.model_dump(),
        "kafka_bootstrap_servers": broker.bootstrap_servers,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": WORKER_USER,
        "kafka_sasl_password": password,
        "kafka_ssl_cafile": broker.cafile,
    })


async def test_the_worker_routes_over_sasl_ssl(secure_broker, worker_settings, start_worker, tmp_path):
    settings = _over_sasl_ssl(worker_settings, secure_broker, secure_broker.password)
    start_worker(settings)
    async with Collector(settings, {settings.decisions_topic}) as collector:
        await publish(settings, settings.input_topic, MENTIONS)
        received = await collector.collect(len(MENTIONS), {settings.decisions_topic}, timeout=60)

    decided = {json.loads(record.value)["mention_id"] for record in received}
    assert decided == {json.loads(value)["id"] for _, value in MENTIONS}
    assert secure_broker.password not in (tmp_path / "worker-0.log").read_text()


def test_a_wrong_password_stops_the_worker_at_once_and_says_why(secure_broker, worker_settings,
                                                                 worker_environment):
    wrong = secrets.token_hex(16)
    settings = _over_sasl_ssl(worker_settings, secure_broker, wrong)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "router.cli", "worker"], cwd=REPO,
                            env=worker_environment(settings), capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr

    assert result.returncode != 0, output
    # Loading the model takes most of it; a worker that kept retrying would not give up within minutes.
    assert elapsed < 45, f"the worker took {elapsed:.0f} s to give up"
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    refusals = [event["error"] for event in events if event["event"] == "worker.refused_to_start"]
    assert len(refusals) == 1 and "authentication failed" in refusals[0].lower(), output
    assert wrong not in output and secure_broker.password not in output
