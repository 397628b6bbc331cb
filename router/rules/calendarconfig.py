"""The `calendar:` section of a config: time zone, opening hours per weekday and holidays, checked line by line."""

import difflib
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.rules.businesshours import WEEKDAYS, Calendar, Span, parse_span, parse_weekdays
from router.rules.yamltext import (
    YamlText,
    check_keys,
    describe,
    expect_list,
    expect_mapping,
    expect_string,
    line_of,
    require_keys,
)

KEYS = ("time_zone", "hours", "holidays")


def parse_calendar(src: YamlText, doc: CommentedMap) -> Calendar | None:
    if "calendar" not in doc:
        return None
    node = expect_mapping(src, doc["calendar"], line_of(doc, "calendar"), "calendar")
    check_keys(src, node, "calendar", KEYS)
    require_keys(src, node, "calendar", ("time_zone", "hours"))
    week = _hours(src, node)
    return Calendar(_zone(src, node), week, _holidays(src, node))


def _zone(src: YamlText, node: CommentedMap) -> ZoneInfo:
    line = line_of(node, "time_zone")
    name = expect_string(src, node["time_zone"], line, "calendar time_zone")
    # Only names of the IANA database: a path, or "localtime", would read the host's own files.
    if name not in _zone_names():
        close = difflib.get_close_matches(name, sorted(_zone_names()), n=1)
        hint = f'did you mean "{close[0]}"?' if close else "use an IANA name such as America/Toronto"
        raise src.error(line, f'unknown time zone "{name}" ({hint})')
    return ZoneInfo(name)


@cache
def _zone_names() -> frozenset[str]:
    # Some systems list "localtime", a link to the host's own zone: a config must mean the same everywhere.
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def _hours(src: YamlText, node: CommentedMap) -> tuple[tuple[Span, ...], ...]:
    hours = expect_mapping(src, node["hours"], line_of(node, "hours"), "calendar hours")
    week: list[tuple[Span, ...] | None] = [None] * 7
    given: dict[int, int] = {}  # weekday -> the line that gave its hours
    for key, value in hours.items():
        line = line_of(hours, key)
        try:
            days = parse_weekdays(str(key))
        except ValueError as error:
            raise src.error(line, f"calendar hours: {error}") from None
        spans = _spans(src, value, line, key)
        for day in days:
            if day in given:
                raise src.error(line, f"calendar hours give {WEEKDAYS[day]} twice (first at line {given[day]})")
            given[day] = line
            week[day] = spans
    if not any(week):
        raise src.error(line_of(node, "hours"), "calendar hours open on no day: give at least one, such as "
                                                'mon-fri: "09:00-17:00"')
    return tuple(spans or () for spans in week)


def _spans(src: YamlText, value: Any, line: int, key: Any) -> tuple[Span, ...]:
    """One span such as "09:00-17:00", or a list of them (a lunch break); `closed` for none."""
    if value == "closed":
        return ()
    if isinstance(value, str):
        items = [(value, line)]
    elif isinstance(value, CommentedSeq):
        items = [(item, line_of(value, index, line)) for index, item in enumerate(value)]
    else:
        raise src.error(line, f'calendar hours of {key}: expected opening hours such as "09:00-17:00", a list of '
                              f"them, or closed; got {describe(value)}")
    spans: list[Span] = []
    for item, item_line in items:
        if not isinstance(item, str):
            raise src.error(item_line, f'calendar hours of {key}: expected opening hours such as "09:00-17:00", '
                                       f"got {describe(item)}")
        try:
            spans.append(parse_span(item))
        except ValueError as error:
            raise src.error(item_line, f"calendar hours of {key}: {error}") from None
    spans.sort()
    for before, after in zip(spans, spans[1:]):
        if after[0] < before[1]:
            raise src.error(line, f"calendar hours of {key} overlap: {_show(before)} and {_show(after)}")
    return tuple(spans)


def _show(span: Span) -> str:
    return "-".join(f"{minute // 60:02d}:{minute % 60:02d}" for minute in span)


def _holidays(src: YamlText, node: CommentedMap) -> frozenset[date]:
    if "holidays" not in node:
        return frozenset()
    items = expect_list(src, node["holidays"], line_of(node, "holidays"), "calendar holidays")
    seen: dict[date, int] = {}
    for index, item in enumerate(items):
        line = line_of(items, index)
        day = _date(item)
        if day is None:
            raise src.error(line, f"calendar holidays: expected a date such as 2026-06-24, got {describe(item)}")
        if day in seen:
            raise src.error(line, f"calendar holidays list {day} twice (first at line {seen[day]})")
        seen[day] = line
    return frozenset(seen)


def _date(item: Any) -> date | None:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str) and len(item) == 10 and item[4] == item[7] == "-":
        try:
            return date.fromisoformat(item)
        except ValueError:
            return None
    return None


def describe_calendar(calendar: Calendar) -> str:
    """One line for `check-config --tree` and `explain`: the zone, the week's hours, how many holidays."""
    runs: list[tuple[int, int, tuple[Span, ...]]] = []  # first day, last day, their spans
    for day, spans in enumerate(calendar.week):
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], day, spans)
        else:
            runs.append((day, day, spans))
    week = "; ".join(f"{WEEKDAYS[first]}{'-' + WEEKDAYS[last] if last > first else ''} "
                     f"{' and '.join(_show(span) for span in spans)}" for first, last, spans in runs if spans)
    holidays = f"; {len(calendar.holidays)} holidays" if calendar.holidays else ""
    return f"{calendar.name}, {week}{holidays}"
