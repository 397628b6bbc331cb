"""Raw Kafka record bytes to validated mentions, or an InvalidMention saying why not."""

import json

from pydantic import ValidationError

from router.errors import InvalidMention
from router.mentions.model import Mention
from router.mentions.native import normalise

MAX_RECORD_BYTES = 64 * 1024


def decode_record(raw: bytes) -> list[Mention]:
    """Every mention in one record; raises InvalidMention with a reason fit for the dead-letter topic."""
    if raw is None:
        raise InvalidMention("empty record: no value")
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidMention(f"record too large: {len(raw)} bytes, limit {MAX_RECORD_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidMention(f"invalid UTF-8: undecodable byte at offset {error.start}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidMention(f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    if not isinstance(payload, dict):
        raise InvalidMention(f"invalid mention: expected a JSON object, got {type(payload).__name__}")
    if b"\\u" in raw:
        _refuse_lone_surrogates(payload)
    mentions = [_validate(fields) for fields in normalise(payload)]
    if not mentions:
        raise InvalidMention("no mention in payload: a webhook without any comment")
    return mentions


def _refuse_lone_surrogates(payload: dict) -> None:
    """JSON may escape half of a UTF-16 pair; such text cannot be written out again, so refuse it now."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidMention("invalid mention: a string holds an unpaired UTF-16 surrogate escape") from None


def _validate(fields: dict) -> Mention:
    try:
        return Mention.model_validate(fields)
    except ValidationError as error:
        raise InvalidMention(f"invalid mention: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    """One short line per problem, e.g. `created_at: Field required`."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(step) for step in problem["loc"]) or "mention"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)
