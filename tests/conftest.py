"""Fixtures shared by unit and integration tests."""

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def payload():
    """Factory: the raw bytes of one documented native payload example."""

    def load(name: str) -> bytes:
        return (PAYLOADS / name).read_bytes()

    return load


@pytest.fixture
def mention_bytes():
    """Factory: a valid canonical mention, with any field overridden, as record bytes."""

    def build(**overrides) -> bytes:
        fields = {"id": "m-1", "source": "twitter", "text": "hello", "created_at": "2026-11-20T10:00:00Z"}
        fields.update(overrides)
        return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()

    return build
