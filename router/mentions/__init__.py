"""Mentions: the canonical schema, platform payloads normalised into it, and raw-record decoding."""

from router.mentions.decode import MAX_RECORD_BYTES, decode_record
from router.mentions.model import SOURCES, Author, Mention, Source

__all__ = ["Author", "Mention", "Source", "SOURCES", "MAX_RECORD_BYTES", "decode_record"]
