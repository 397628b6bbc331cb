"""Security settings reach the Kafka clients' options."""

import pytest
from pydantic import ValidationError

from router.kafka_io import client_options
from router.settings import Settings


def test_plaintext_needs_no_credentials():
    settings = Settings()
    assert client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_carries_mechanism_user_password_and_tls():
    settings = Settings(kafka_bootstrap_servers="b1:9093,b2:9093", kafka_security_protocol="SASL_SSL",
                        kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="router",
                        kafka_sasl_password="s3cret")
    options = client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "router" and options["sasl_plain_password"] == "s3cret"
    assert options["ssl_context"] is not None


def test_sasl_plaintext_has_no_tls():
    settings = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p")
    assert "ssl_context" not in client_options(settings)


def test_ssl_only_is_tls_without_sasl():
    options = client_options(Settings(kafka_security_protocol="SSL"))
    assert options["ssl_context"] is not None and "sasl_mechanism" not in options


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
