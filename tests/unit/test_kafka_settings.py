"""Security settings reach both Kafka clients: faust's credentials and aiokafka's options."""

import faust
import pytest
from pydantic import ValidationError

from router.kafka_io import client_options
from router.settings import Settings
from router.worker.credentials import broker_credentials


def test_plaintext_needs_no_credentials():
    settings = Settings()
    assert broker_credentials(settings) is None
    assert client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_carries_mechanism_user_password_and_tls():
    settings = Settings(kafka_bootstrap_servers="b1:9093,b2:9093", kafka_security_protocol="SASL_SSL",
                        kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="router",
                        kafka_sasl_password="s3cret")
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "router" and credentials.password == "s3cret"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.ssl_context is not None
    options = client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "router" and options["sasl_plain_password"] == "s3cret"
    assert options["ssl_context"] is not None


def test_sasl_plaintext_has_no_tls():
    settings = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p")
    assert broker_credentials(settings).ssl_context is None
    assert "ssl_context" not in client_options(settings)


def test_ssl_only_is_tls_credentials():
    settings = Settings(kafka_security_protocol="SSL")
    assert isinstance(broker_credentials(settings), faust.SSLCredentials)


def test_the_password_never_shows_in_the_settings_repr():
    settings = Settings(kafka_sasl_password="s3cret")
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


def test_settings_come_from_inbox_variables(monkeypatch):
    monkeypatch.setenv("INBOX_INPUT_TOPIC", "brand.mentions")
    monkeypatch.setenv("INBOX_TOPIC_PARTITIONS", "12")
    settings = Settings()
    assert settings.input_topic == "brand.mentions" and settings.topic_partitions == 12


def test_an_unknown_protocol_is_refused():
    with pytest.raises(ValidationError, match="kafka_security_protocol"):
        Settings(kafka_security_protocol="SASL_TLS")
