"""Service levels: a route's `respond_within`, and the `due_by` it gives a mention from the mention's own time."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from router.rules.businesshours import Calendar, add_business_days, add_business_time

UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
UNIT_NAMES = {"m": "minutes", "h": "hours", "d": "days"}
# Longer than a quarter is no service level but a typo (400d for 4h).
MAX_MINUTES = 90 * 24 * 60
_SYNTAX = "a whole number and a unit, m (minutes), h (hours) or d (days), such as 30m, 4h or 2d"


@dataclass(frozen=True)
class Duration:
    """`30m`, `4h` or `2d` as written; with a calendar, minutes and hours are business time and days open days."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def minutes(self) -> int:
        return self.amount * UNIT_MINUTES[self.unit]


def parse_duration(value: Any) -> Duration:
    """A strict `respond_within`: raises ValueError saying what is wrong."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise ValueError(f"{value} has no unit: write {_SYNTAX}")
    if not isinstance(value, str):
        raise ValueError(f"must be {_SYNTAX}")
    digits, unit = value[:-1], value[-1:]
    if unit not in UNIT_MINUTES or not digits.isascii() or not digits.isdigit() or len(digits) > 6:
        raise ValueError(f'"{value}" is not {_SYNTAX}')
    duration = Duration(int(digits), unit)
    if duration.amount == 0:
        raise ValueError(f'"{value}" is no time at all: give at least 1m')
    if duration.minutes > MAX_MINUTES:
        raise ValueError(f'"{value}" is longer than 90 days')
    return duration


def check_fits(within: Duration, calendar: Calendar) -> None:
    """Refuse a service level that a year of the calendar's opening hours cannot hold (it would search too far)."""
    if within.unit == "d":
        weeks = math.ceil(within.amount / calendar.open_days_per_week())
    else:
        weeks = math.ceil(within.minutes / calendar.weekly_minutes())
    if weeks > 52:
        raise ValueError(f"{within} of business time needs {weeks} weeks of the calendar's opening hours; "
                         "at most 52 are allowed")


def deadline(start: datetime, within: Duration, calendar: Calendar | None) -> datetime:
    """When a mention received at `start` is due, in UTC: in business time with a calendar, else wall-clock."""
    start = start.astimezone(timezone.utc)
    if calendar is None:
        return start + timedelta(minutes=within.minutes)
    if within.unit == "d":
        return add_business_days(calendar, start, within.amount)
    return add_business_time(calendar, start, timedelta(minutes=within.minutes))


@dataclass(frozen=True)
class ServiceLevel:
    """The service levels of the routes that matched; the earliest deadline applies, as the highest priority does.

    `calendar` is None when the clock runs around the clock: without a calendar, and for a crisis.
    """

    within: tuple[Duration, ...]
    calendar: Calendar | None

    def due(self, start: datetime) -> tuple[datetime, Duration] | None:
        """The earliest deadline and the duration that gave it; None past the years datetime can hold."""
        try:
            if len(self.within) == 1:
                return deadline(start, self.within[0], self.calendar), self.within[0]
            return min(((deadline(start, within, self.calendar), within) for within in self.within),
                       key=lambda pair: pair[0])
        except OverflowError:
            return None
