"""The router's settings: one frozen object, read from INBOX_* environment variables once; nothing else reads them."""

import socket
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Everything a deployment may change; secrets stay masked in logs and reprs."""

    model_config = SettingsConfigDict(env_prefix="INBOX_", frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None

    app_id: str = "inbox-router"
    input_topic: str = "mentions"
    dead_letter_topic: str = "mentions.dead-letter"
    decisions_topic: str = "routing.decisions"
    # Each conversation's owner and latest claim by claim key, compacted, partitioned as the input topic.
    threads_topic: str = "routing.threads"
    # Claims written by inbox tools, keyed by the claim key of the record they claim.
    claims_topic: str = "routing.claims"
    # Crisis detection: what routing reads of each counted mention, the detector's changelog, the incident events.
    signals_topic: str = "routing.signals"
    crisis_topic: str = "routing.crisis"
    incidents_topic: str = "routing.incidents"
    # The detector writes each scope it counted into its changelog, and commits the signals read, this often (and
    # whenever an incident opens, grows or resolves): once a batch, it wrote more records than the mentions routed.
    crisis_checkpoint_seconds: float = Field(default=2.0, gt=0)
    # Labels fixed by agents in their inbox tools; the worker only checks them, `corrections export` reads them.
    corrections_topic: str = "routing.corrections"
    # The careful stage: records whose fast labels are unsure wait here for the careful lane, which writes them
    # back, unchanged and with its labels, to the labelled topic (partitioned as the input) that the worker reads.
    careful_topic: str = "mentions.careful"
    labelled_topic: str = "mentions.careful.labelled"
    topic_partitions: int = Field(default=4, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    config_path: Path = REPO_ROOT / "config" / "router.yaml"
    config_reload_seconds: float = Field(default=5.0, gt=0)
    model_dir: Path | None = None
    # The careful stage's model (models/careful-classifier unless set), loaded when a config sets careful_below.
    careful_model_dir: Path | None = None

    batch_size: int = Field(default=500, ge=1)
    batch_wait_seconds: float = Field(default=0.05, gt=0)
    # Processes that decode, classify and route batches beside the one that talks to Kafka; 0 routes in that one.
    # One per core the worker may use: they, not the Kafka loop, bound its throughput.
    routing_processes: int = Field(default=2, ge=0)
    # at_least_once commits each batch's offsets once its outputs are acknowledged; exactly_once puts
    # outputs and offsets in one Kafka transaction.
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    # The largest record the worker produces: keep it at or below the broker's message.max.bytes.
    max_message_bytes: int = Field(default=1_000_000, ge=100_000)
    # How long the worker keeps retrying a batch it cannot deliver before it stops without committing.
    delivery_timeout_seconds: float = Field(default=120.0, gt=0)
    # On SIGTERM the batch in flight gets this long to finish; fit it inside the orchestrator's grace period.
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)
    # Names this worker's Kafka transactions; a restarted worker with the same id fences its predecessor.
    instance_id: str = Field(default_factory=socket.gethostname)
    # Test-only fault injection: a mention whose text contains this string makes routing raise.
    fail_routing_on: str | None = None
    web_port: int = 6066
    # faust keeps local state here (one folder per app id); the worker holds none worth keeping.
    data_dir: Path = Path(tempfile.gettempdir()) / "inbox-router"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def sasl_password(self) -> str | None:
        """The SASL password in clear, for the Kafka clients only."""
        return self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None

    @classmethod
    def of_run(cls, run: str, **values: Any) -> "Settings":
        """Settings whose group is `run` and whose every topic is named after it (`run.mentions`, ...).

        A test or a bench run keeps to topics of its own, a topic added later included, and deletes them after.
        """
        topics: dict[str, Any] = {name: f"{run}.{cls.model_fields[name].default}" for name in topic_settings()}
        return cls(app_id=run, **topics, **values)


def topic_settings() -> tuple[str, ...]:
    """The names of the settings that name a topic."""
    return tuple(name for name in Settings.model_fields if name.endswith("_topic"))


@cache
def get_settings() -> Settings:
    return Settings()
