"""The one exception root, so that callers can catch everything the router raises on purpose."""

from enum import StrEnum


class RouterError(Exception):
    """Base of every error the router raises deliberately."""


class DeadLetterKind(StrEnum):
    """What kind of record was dead-lettered: the first words of its reason, and its label in metrics and summaries."""

    EMPTY_RECORD = "empty record"
    TOO_LARGE = "record too large"
    INVALID_UTF8 = "invalid UTF-8"
    INVALID_JSON = "invalid JSON"
    INVALID_MENTION = "invalid mention"
    NO_MENTION = "no mention in payload"
    DECODING_FAILED = "decoding failed"
    ROUTING_FAILED = "routing failed"
    OUTPUT_TOO_LARGE = "output too large"
    INVALID_CLAIM = "invalid claim"
    INVALID_CORRECTION = "invalid correction"
    INVALID_LABELS = "invalid careful labels"


class InvalidMention(RouterError):
    """A record that cannot become a mention; its message is the dead-letter reason, `kind` its category."""

    def __init__(self, message: str, kind: DeadLetterKind = DeadLetterKind.INVALID_MENTION) -> None:
        super().__init__(message)
        self.kind = kind

    @classmethod
    def because(cls, kind: DeadLetterKind, detail: str) -> "InvalidMention":
        """The error whose reason is the kind, then what exactly is wrong."""
        return cls(f"{kind}: {detail}", kind)


class ConfigError(RouterError):
    """A routing config that cannot be loaded: the message names the file, the line and the problem."""


class ModelError(RouterError):
    """A classifier artifact that cannot be loaded or used."""
