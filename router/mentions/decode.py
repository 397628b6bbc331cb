"""Raw Kafka record bytes to validated mentions, or an InvalidMention saying why not."""

import json
import math
import sys

import orjson
from pydantic import ValidationError

from router.errors import DeadLetterKind as Kind
from router.errors import InvalidMention
from router.mentions.model import Mention
from router.mentions.native import normalise

MAX_RECORD_BYTES = 64 * 1024
# Native payloads nest five levels. Far deeper, the parser and pydantic's serialiser (255 levels) run out of
# stack, and the writers downstream would fail on a mention decoding had accepted.
MAX_DEPTH = 64
# orjson reads an integer beyond 64 bits as a float: a record with a run of 20 digits, or of 19 after a minus, may
# hold one and is left to the standard library. With digits and minus mapped to 0, one search finds both kinds of
# run (and a few harmless others); a regex would cost more than parsing.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789-", b"0000000000")
_WIDE_INTEGER = b"0" * 20
_NOT_PLAIN = object()


def decode_record(raw: bytes | None) -> list[Mention]:
    """Every mention in one record; raises InvalidMention with a reason fit for the dead-letter topic."""
    if raw is None:
        raise InvalidMention.because(Kind.EMPTY_RECORD, "no value")
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidMention.because(Kind.TOO_LARGE, f"{len(raw)} bytes, limit {MAX_RECORD_BYTES}")
    payload, plain = _parse(raw)
    if not isinstance(payload, dict):
        raise InvalidMention.because(Kind.INVALID_MENTION, f"expected a JSON object, got {type(payload).__name__}")
    if not plain and b"\\u" in raw:  # orjson refuses lone surrogate escapes itself
        _refuse_lone_surrogates(payload)
    mentions = [_validate(fields) for fields in normalise(payload)]
    if not mentions:
        raise InvalidMention.because(Kind.NO_MENTION, "a webhook without any comment")
    return mentions


def _parse(raw: bytes) -> tuple[object, bool]:
    """The payload, and whether orjson read it (which proves the bytes UTF-8 and refuses lone surrogates)."""
    payload = _plain_json(raw)
    plain = payload is not _NOT_PLAIN
    if not plain:
        payload = _parse_strictly(_utf8(raw))
    # Every level opens a bracket: counting them in C spares the walk to all but bracket-heavy records.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(payload, MAX_DEPTH):
        raise InvalidMention.because(Kind.INVALID_JSON, f"nested deeper than {MAX_DEPTH} levels")
    return payload, plain


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidMention.because(Kind.INVALID_UTF8, f"undecodable byte at offset {error.start}") from None


def _parse_strictly(text: str) -> object:
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidMention.because(Kind.INVALID_JSON, f"{error.msg} ({where})") from None
    except RecursionError:  # the C parser guards its stack; the record nests thousands of levels
        raise InvalidMention.because(Kind.INVALID_JSON, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # the parser's only other error: an integer longer than Python will convert
        limit = sys.get_int_max_str_digits()
        raise InvalidMention.because(Kind.INVALID_JSON, f"an integer has more than {limit} digits") from None


def _plain_json(raw: bytes) -> object:
    """The payload as orjson reads it, several times faster; _NOT_PLAIN when the standard library must judge.

    orjson refuses what the standard library refuses or its hooks reject (invalid UTF-8, NaN, infinite
    numbers), and lone surrogates too; it reads everything else to the same values, so falling back only
    costs time.
    """
    if _WIDE_INTEGER in raw.translate(_DIGITS_AS_ZERO):
        return _NOT_PLAIN
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NOT_PLAIN


def _refuse_constant(name: str) -> float:
    """NaN and Infinity are not JSON; written out again they would break every strict reader downstream."""
    raise InvalidMention.because(Kind.INVALID_JSON, f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):  # 1e400 parses as infinity, which JSON cannot write back
        raise InvalidMention.because(Kind.INVALID_JSON, "a number is out of the range of a double")
    return value


def _deeper_than(value: object, limit: int) -> bool:
    """Whether containers nest more than `limit` levels; level by level, so no depth exhausts the stack."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
        if not level:
            return False
    return True


def _refuse_lone_surrogates(payload: dict) -> None:
    """JSON may escape half of a UTF-16 pair; such text cannot be written out again, so refuse it now."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        detail = "a string holds an unpaired UTF-16 surrogate escape"
        raise InvalidMention.because(Kind.INVALID_MENTION, detail) from None


def _validate(fields: dict) -> Mention:
    try:
        # The validator itself: model_validate's own checks of its arguments cost a third as much again.
        return Mention.__pydantic_validator__.validate_python(fields)
    except ValidationError as error:
        raise InvalidMention.because(Kind.INVALID_MENTION, describe_errors(error)) from None


def describe_errors(error: ValidationError, whole: str = "mention") -> str:
    """One short line per problem, e.g. `created_at: Field required`; `whole` names a problem of the whole."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(step) for step in problem["loc"]) or whole
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)
