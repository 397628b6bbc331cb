"""Kafka security settings turned into faust broker credentials."""

import faust
from faust.types.auth import CredentialsT

from router.kafka_io import ssl_context
from router.settings import Settings


def broker_credentials(settings: Settings) -> CredentialsT | None:
    """None for PLAINTEXT; TLS and/or SASL otherwise, as the settings ask."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings) if protocol in ("SSL", "SASL_SSL") else None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.sasl_password,
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=context,
    )
