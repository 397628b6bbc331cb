"""A company's calendar (time zone, weekly opening hours, holidays) and time counted in its business hours."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# Opening hours of recently seen days, kept per calendar: mentions arrive from a handful of days at a time.
_MAX_CACHED_DAYS = 1024

Span = tuple[int, int]  # opening and closing minute of a day, 0 to 1440, opening first
Opening = tuple[datetime, datetime]  # in UTC, so that differences are real durations even on DST change days


def parse_weekdays(text: str) -> tuple[int, ...]:
    """`mon-fri`, `sat,sun` or `fri-mon` (a range may wrap past Sunday) as weekday numbers, Monday 0, in order."""
    days: dict[int, None] = {}
    for part in text.split(","):
        first, dash, last = part.partition("-")
        start = _weekday(first)
        end = _weekday(last) if dash else start
        days.update(dict.fromkeys((start + step) % 7 for step in range((end - start) % 7 + 1)))
    return tuple(days)


def _weekday(name: str) -> int:
    if name not in WEEKDAYS:
        raise ValueError(f'"{name}" is not a weekday: use {", ".join(WEEKDAYS)}, a range such as mon-fri, '
                         "or a list such as sat,sun")
    return WEEKDAYS.index(name)


def parse_hours(text: str) -> frozenset[int]:
    """`18-8` (from 18:00 up to 08:00, across midnight), `9` (09:00 to 10:00) or a list such as `7-9,17-19`."""
    hours: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        start = _hour(first, 23)
        end = _hour(last, 24) if dash else start + 1
        if start == end:
            raise ValueError(f'"{part}" holds no hour: a range A-B runs from A:00 up to B:00')
        hours.update(hour % 24 for hour in range(start, end if end > start else end + 24))
    return frozenset(hours)


def _hour(text: str, highest: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 2 and int(text) <= highest):
        raise ValueError(f'"{text}" is not an hour from 0 to {highest}: write hours such as 9, a range such as '
                         "18-8, or a list such as 7-9,17-19")
    return int(text)


def parse_span(text: str) -> Span:
    """`09:00-17:00` as minutes of the day; `24:00` may close a day, a span never crosses midnight."""
    opens, dash, closes = text.partition("-")
    if not dash:
        raise ValueError(f'"{text}" is not opening hours such as "09:00-17:00"')
    start, end = _minute(opens), _minute(closes)
    if start == MINUTES_PER_DAY or end <= start:
        raise ValueError(f'"{text}" closes before it opens (a span ends by 24:00 the same day; '
                         "give the hours after midnight to the next day)")
    return start, end


def _minute(text: str) -> int:
    hours, colon, minutes = text.partition(":")
    well_formed = colon and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isascii() \
        and (hours + minutes).isdigit()
    value = int(hours) * 60 + int(minutes) if well_formed else -1
    if not well_formed or int(minutes) > 59 or not 0 <= value <= MINUTES_PER_DAY:
        raise ValueError(f'"{text}" is not a time from 00:00 to 24:00 written HH:MM')
    return value


@dataclass(frozen=True, eq=False)
class Calendar:
    """When the company is open: `week` holds each weekday's spans, Monday first; holidays are closed all day."""

    zone: ZoneInfo
    week: tuple[tuple[Span, ...], ...]
    holidays: frozenset[date] = frozenset()
    _openings: dict[date, tuple[Opening, ...]] = field(default_factory=dict, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.zone.key

    def weekly_minutes(self) -> int:
        return sum(end - start for spans in self.week for start, end in spans)

    def open_days_per_week(self) -> int:
        return sum(1 for spans in self.week if spans)

    def local(self, instant: datetime) -> datetime | None:
        """The instant on the company's wall clock; None for the first and last hours that datetime can hold."""
        try:
            return instant.astimezone(self.zone)
        except OverflowError:
            return None

    def is_open(self, instant: datetime) -> bool:
        local = self.local(instant)
        if local is None or local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def openings(self, day: date) -> tuple[Opening, ...]:
        """The day's opening spans as UTC instants; none on a holiday."""
        found = self._openings.get(day)
        if found is None:
            if len(self._openings) >= _MAX_CACHED_DAYS:
                self._openings.clear()
            spans = () if day in self.holidays else self.week[day.weekday()]
            found = tuple((self._instant(day, start), self._instant(day, end)) for start, end in spans)
            self._openings[day] = found
        return found

    def _instant(self, day: date, minute: int) -> datetime:
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        # A wall time skipped by a DST change reads with the offset before it, as zoneinfo does (fold 0).
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return wall.astimezone(timezone.utc)

    def horizon(self) -> int:
        """How many days a search for opening hours may look ahead: a year's worth, plus a week per holiday.

        Configs are refused when a service level needs more than a year of opening hours, so a search that
        goes this far has met a date beyond what datetime can hold.
        """
        return 7 * (54 + len(self.holidays))


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """When `duration` of opening hours has passed since `start` (in UTC), counting from the next opening."""
    remaining = duration
    day = _first_day(start)
    for _ in range(calendar.horizon()):
        for opens, closes in calendar.openings(day):
            if closes > start:
                begin = opens if opens > start else start
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += _ONE_DAY
    raise OverflowError("no opening hours within the search horizon")


def add_business_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The same point of the business day, `days` open days after the one the clock starts in.

    The clock starts at `start` (in UTC) when the company is open, else at the next opening. A target day
    with shorter hours ends at its closing time.
    """
    offset: timedelta | None = None  # how far into its business day the clock starts, once found
    day = _first_day(start)
    for _ in range(calendar.horizon()):
        spans = calendar.openings(day)
        if offset is None:
            offset = _offset_into(spans, start)
        elif spans:
            days -= 1
            if days == 0:
                return _at_offset(spans, offset)
        day += _ONE_DAY
    raise OverflowError("no opening hours within the search horizon")


_ONE_DAY = timedelta(days=1)


def _first_day(start: datetime) -> date:
    """A day on or before `start`'s local day in any zone: UTC offsets stay within a day, so the UTC day before.

    Cheaper than converting `start` to the calendar's zone; the spans of that day end before `start` anyway.
    """
    return start.date() - _ONE_DAY


def _offset_into(spans: tuple[Opening, ...], start: datetime) -> timedelta | None:
    """How far into this day's business hours `start` falls; None when the day closed before it."""
    done = timedelta(0)
    for opens, closes in spans:
        if closes > start:
            return done + max(start - opens, timedelta(0))
        done += closes - opens
    return None


def _at_offset(spans: tuple[Opening, ...], offset: timedelta) -> datetime:
    for opens, closes in spans:
        if offset <= closes - opens:
            return opens + offset
        offset -= closes - opens
    return spans[-1][1]
