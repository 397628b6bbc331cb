"""Matcher strings such as `author.followers >= 10000`, parsed by hand and compiled once."""

import difflib
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import re2

from router.classify.labels import LABELS
from router.mentions.model import SOURCES
from router.rules.businesshours import WEEKDAYS, parse_hours, parse_weekdays
from router.rules.facts import ALL_FIELDS, BOOL_FIELDS, LOCAL_TIME_FIELDS, NUMBER_FIELDS, STRING_FIELDS, Facts
from router.rules.words import phrase_key

OPERATORS = ("=", "!=", "=~", "!~", "<", "<=", ">", ">=")
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "!=": operator.ne,
}
_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_KNOWN_VALUES = {"label": LABELS, "source": SOURCES}


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled; the message says why in plain words."""


class Matcher:
    """One compiled condition; `text` is what the operator wrote, for explanations."""

    text: str
    field: str

    def matches(self, facts: Facts) -> bool:
        raise NotImplementedError

    def actual(self, facts: Facts) -> Any:
        return None


@dataclass(frozen=True, eq=False)
class _FieldMatcher(Matcher):
    text: str
    field: str
    get: Callable[[Facts], Any]

    def actual(self, facts: Facts) -> Any:
        return self.get(facts)


@dataclass(frozen=True, eq=False)
class StringEquals(_FieldMatcher):
    value: str
    negate: bool

    def matches(self, facts: Facts) -> bool:
        # A missing field compares as the empty string, as labels do in Alertmanager.
        return ((self.get(facts) or "") == self.value) != self.negate


@dataclass(frozen=True, eq=False)
class RegexMatch(_FieldMatcher):
    pattern: Any
    negate: bool

    def matches(self, facts: Facts) -> bool:
        value = self.get(facts) or ""
        try:
            found = self.pattern.search(value)
        except UnicodeEncodeError:
            # JSON may carry lone surrogates, which RE2's UTF-8 input cannot hold.
            found = self.pattern.search(value.encode("utf-8", "replace").decode("utf-8"))
        return (found is not None) != self.negate


@dataclass(frozen=True, eq=False)
class NumberCompare(_FieldMatcher):
    op: Callable[[Any, Any], bool]
    value: float
    negate_missing: bool

    def matches(self, facts: Facts) -> bool:
        actual = self.get(facts)
        if actual is None:
            # Unknown is not less, more, or equal; it is only "not equal".
            return self.negate_missing
        return self.op(actual, self.value)


@dataclass(frozen=True, eq=False)
class BoolEquals(_FieldMatcher):
    value: bool
    negate: bool

    def matches(self, facts: Facts) -> bool:
        return (bool(self.get(facts)) == self.value) != self.negate


@dataclass(frozen=True, eq=False)
class OneOf(_FieldMatcher):
    """The local hour or weekday is one of a set; unknown (a date at the edge of datetime's range) matches only !=."""

    values: frozenset
    negate: bool

    def matches(self, facts: Facts) -> bool:
        actual = self.get(facts)
        if actual is None:
            return self.negate
        return (actual in self.values) != self.negate


@dataclass(frozen=True, eq=False)
class AnyWord(Matcher):
    """True when the text contains any listed word or phrase as whole words."""

    text: str
    keys: tuple[str, ...]
    field: str = "words"
    # A one-word key " w " is in the word line exactly when w is one of its words: one set operation finds
    # any of them; only phrases need a substring search.
    _single: frozenset[str] = dataclass_field(init=False, repr=False)
    _phrases: tuple[str, ...] = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        single = [key for key in self.keys if len(key) > 2 and key[0] == key[-1] == " " and key.count(" ") == 2]
        object.__setattr__(self, "_single", frozenset(key.strip() for key in single))
        object.__setattr__(self, "_phrases", tuple(key for key in self.keys if key not in single))

    def matches(self, facts: Facts) -> bool:
        if not self._single.isdisjoint(facts.word_list):
            return True
        if self._phrases:
            line = facts.words
            for key in self._phrases:
                if key in line:
                    return True
        return False

    def found(self, facts: Facts) -> list[str]:
        line = facts.words
        return [key.strip() for key in self.keys if key in line]


def compile_words(words: list[str]) -> AnyWord:
    keys = []
    for word in words:
        key = phrase_key(word)
        if not key:
            raise MatcherError(f'the word "{word}" has no letters or digits')
        keys.append(key)
    return AnyWord(text="words: " + ", ".join(words), keys=tuple(dict.fromkeys(keys)))


def compile_matcher(text: str, known_units: tuple[str, ...] | None = None, has_calendar: bool = False) -> Matcher:
    """Parse and compile `FIELD OP VALUE`; raises MatcherError with a plain explanation."""
    field, op, raw, quoted = tokenize(text)
    if field in LOCAL_TIME_FIELDS:
        return _local_time_matcher(text, field, op, raw, quoted, has_calendar)
    if field in STRING_FIELDS:
        return _string_matcher(text, field, op, raw, known_units)
    if field in NUMBER_FIELDS:
        return _number_matcher(text, field, op, raw, quoted)
    if field in BOOL_FIELDS:
        return _bool_matcher(text, field, op, raw, quoted)
    if field == "words":
        raise MatcherError('"words" is written as a mapping: `- words: [refund, remboursement]`')
    close = difflib.get_close_matches(field, ALL_FIELDS, n=1)
    hint = f'did you mean "{close[0]}"?' if close else "known fields: " + ", ".join(ALL_FIELDS)
    raise MatcherError(f'unknown field "{field}" ({hint})')


def tokenize(text: str) -> tuple[str, str, str, bool]:
    """Split a matcher into field, operator and value, scanning left to right once."""
    pos = _skip_spaces(text, 0)
    start = pos
    while pos < len(text) and text[pos] in _FIELD_CHARS:
        pos += 1
    field = text[start:pos]
    if not field:
        raise MatcherError("expected a field name such as label, confidence or text, then an operator and a value")
    pos = _skip_spaces(text, pos)
    op = next((o for o in ("!=", "=~", "!~", "<=", ">=") if text.startswith(o, pos)), None)
    if op is None and pos < len(text) and text[pos] in "=<>":
        op = text[pos]
    if op is None:
        raise MatcherError(f'expected an operator after "{field}": one of ' + " ".join(OPERATORS))
    if text.startswith("==", pos):
        raise MatcherError('compare with a single "=", not "=="')
    pos = _skip_spaces(text, pos + len(op))
    if pos >= len(text):
        raise MatcherError(f'expected a value after "{field} {op}"')
    if text[pos] == '"':
        value, pos = _quoted(text, pos)
        quoted = True
    else:
        start = pos
        while pos < len(text) and not text[pos].isspace() and text[pos] != '"':
            pos += 1
        value, quoted = text[start:pos], False
    if _skip_spaces(text, pos) != len(text):
        rest = text[pos:].strip()
        raise MatcherError(f"unexpected text after the value: {rest!r} (quote values that contain spaces)")
    return field, op, value, quoted


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    r"""A double-quoted value; \" and \\ are escapes, other backslashes are kept for regexes."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\':
            out.append(text[pos + 1])
            pos += 2
            continue
        out.append(ch)
        pos += 1
    raise MatcherError("a quoted value is missing its closing double quote")


def _string_matcher(text, field, op, raw, known_units) -> Matcher:
    get = STRING_FIELDS[field]
    if op in ("=", "!="):
        _check_known_value(field, raw, known_units)
        return StringEquals(text, field, get, raw, op == "!=")
    if op in ("=~", "!~"):
        return RegexMatch(text, field, get, compile_regex(raw), op == "!~")
    raise MatcherError(f'"{field}" is text: compare it with =, !=, =~ or !~, not {op}')


def _number_matcher(text, field, op, raw, quoted) -> Matcher:
    if op in ("=~", "!~"):
        raise MatcherError(f'"{field}" is a number: compare it with = != < <= > >=, not {op}')
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if quoted or not math.isfinite(value):
        raise MatcherError(f'"{field}" is a number, but "{raw}" is not a number')
    return NumberCompare(text, field, NUMBER_FIELDS[field], _ORDER_OPS[op], value, op == "!=")


def _bool_matcher(text, field, op, raw, quoted) -> Matcher:
    if op not in ("=", "!="):
        raise MatcherError(f'"{field}" is true or false: compare it with = or !=, not {op}')
    if quoted or raw not in ("true", "false"):
        raise MatcherError(f'"{field}" is true or false, but got "{raw}"')
    get = BOOL_FIELDS.get(field) or LOCAL_TIME_FIELDS[field]
    return BoolEquals(text, field, get, raw == "true", op == "!=")


def _local_time_matcher(text, field, op, raw, quoted, has_calendar) -> Matcher:
    if not has_calendar:
        raise MatcherError(f'"{field}" is read on the company\'s clock: declare a calendar (time_zone and hours) '
                           "at the top of the config")
    if field == "business_hours":
        return _bool_matcher(text, field, op, raw, quoted)
    if op not in ("=", "!="):
        example = "18-8" if field == "hour" else "sat,sun"
        raise MatcherError(f'compare "{field}" with = or != and a list, such as {field} = {example}; not {op}')
    try:
        values = parse_hours(raw) if field == "hour" else frozenset(WEEKDAYS[day] for day in parse_weekdays(raw))
    except ValueError as error:
        raise MatcherError(str(error)) from None
    return OneOf(text, field, LOCAL_TIME_FIELDS[field], values, op == "!=")


def _check_known_value(field: str, value: str, known_units: tuple[str, ...] | None) -> None:
    """Catch typos in closed vocabularies: a label or source that can never occur."""
    known = _KNOWN_VALUES.get(field)
    if field == "business_unit" and known_units is not None:
        known = known_units
    if known is not None and value and value not in known:
        raise MatcherError(f'unknown {field.replace("_", " ")} "{value}" (known: {", ".join(known)})')


def compile_regex(pattern: str) -> Any:
    """Anchor the pattern like Alertmanager and compile it with RE2, which runs in linear time."""
    options = re2.Options()
    options.log_errors = False
    options.dot_nl = True  # "." also crosses the newline between a review's title and body
    try:
        # Compiling the bare pattern first refuses "a)|(b", which the anchors would otherwise balance.
        re2.compile(pattern, options)
        return re2.compile(f"^(?:{pattern})$", options)
    except re2.error as error:
        reason = error.args[0] if error.args else "unknown reason"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise MatcherError(f'invalid regular expression "{pattern}": {reason}') from None
