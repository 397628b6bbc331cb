"""Service levels as pure functions: durations, opening hours, and deadlines in business time."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from router.rules.businesshours import Calendar, parse_hours, parse_span, parse_weekdays
from router.rules.servicelevel import Duration, ServiceLevel, check_fits, deadline, parse_duration

TORONTO = ZoneInfo("America/Toronto")
NINE_TO_FIVE = ((9 * 60, 17 * 60),)
# A Quebec office: Monday to Friday, 9 to 5; Fête nationale, Canada Day and Christmas 2026 closed.
OFFICE = Calendar(TORONTO, (NINE_TO_FIVE,) * 5 + ((), ()),
                  frozenset({date(2026, 6, 24), date(2026, 7, 1), date(2026, 12, 25)}))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


def due(start: datetime, within: str, calendar: Calendar | None = OFFICE) -> datetime:
    found = deadline(start, parse_duration(within), calendar)
    assert found.tzinfo == timezone.utc  # deadlines are written in UTC
    return found


@pytest.mark.parametrize(("start", "within", "expected"), [
    (local(2026, 11, 17, 10, 0), "4h", local(2026, 11, 17, 14, 0)),    # Tuesday, within the day
    (local(2026, 11, 17, 16, 0), "1h", local(2026, 11, 17, 17, 0)),    # ends exactly at closing time
    (local(2026, 11, 17, 15, 0), "4h", local(2026, 11, 18, 11, 0)),    # spans the night
    (local(2026, 11, 17, 7, 0), "30m", local(2026, 11, 17, 9, 30)),    # before opening: the clock starts at 9
    (local(2026, 11, 17, 17, 0), "1h", local(2026, 11, 18, 10, 0)),    # at closing time: the shop is shut
    (local(2026, 11, 20, 18, 0), "4h", local(2026, 11, 23, 13, 0)),    # Friday evening: Monday
    (local(2026, 11, 21, 23, 59), "30m", local(2026, 11, 23, 9, 30)),  # Saturday night: Monday morning
    (local(2026, 11, 20, 16, 0), "9h", local(2026, 11, 23, 17, 0)),    # Friday afternoon over the weekend
    (local(2026, 11, 20, 16, 0), "10h", local(2026, 11, 24, 10, 0)),
    (local(2026, 6, 23, 16, 0), "4h", local(2026, 6, 25, 12, 0)),      # the Fête nationale is skipped
    (local(2026, 6, 30, 16, 0), "8h", local(2026, 7, 2, 16, 0)),       # and Canada Day
    (local(2026, 12, 24, 12, 0), "8h", local(2026, 12, 28, 12, 0)),    # Christmas Friday, then the weekend
    (local(2026, 11, 17, 10, 0), "40h", local(2026, 11, 24, 10, 0)),   # a whole working week
])
def test_business_hours_count_only_opening_hours(start, within, expected):
    assert due(start, within) == expected


def test_a_mention_in_another_offset_counts_on_the_company_clock():
    paris = datetime(2026, 11, 17, 22, 0, tzinfo=timezone(timedelta(hours=1)))  # 16:00 in Toronto
    assert due(paris, "2h") == local(2026, 11, 18, 10, 0)


@pytest.mark.parametrize(("start", "within", "expected"), [
    # Clocks go forward on Sunday 8 March 2026: Monday's 10:00 is 14:00 UTC, no longer 15:00.
    (local(2026, 3, 6, 16, 0), "2h", datetime(2026, 3, 9, 14, 0, tzinfo=timezone.utc)),
    # And back on Sunday 1 November: Monday's 10:00 is 15:00 UTC again.
    (local(2026, 10, 30, 16, 0), "2h", datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)),
])
def test_opening_hours_follow_the_wall_clock_across_dst_changes(start, within, expected):
    assert due(start, within) == expected


# Open on Sundays from midnight to six: five real hours on the night clocks go forward, seven when they go back.
SUNDAY_NIGHTS = Calendar(TORONTO, ((),) * 6 + (((0, 6 * 60),),))


def test_a_dst_change_night_lasts_as_long_as_it_really_does():
    spring = datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)  # 00:00 EST
    assert due(spring, "5h", SUNDAY_NIGHTS) == datetime(2026, 3, 8, 10, 0, tzinfo=timezone.utc)  # 06:00 EDT
    assert due(spring, "6h", SUNDAY_NIGHTS) == datetime(2026, 3, 15, 5, 0, tzinfo=timezone.utc)  # 01:00 EDT next
    autumn = datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)  # 00:00 EDT
    assert due(autumn, "7h", SUNDAY_NIGHTS) == datetime(2026, 11, 1, 11, 0, tzinfo=timezone.utc)  # 06:00 EST


def test_an_always_open_calendar_counts_real_time_across_a_dst_change():
    always = Calendar(TORONTO, (((0, 24 * 60),),) * 7)
    start = local(2026, 3, 7, 12, 0)
    # 13:00 EDT: 24 real hours, 25 on the wall clock (adding to a zoned datetime would count wall-clock hours).
    assert due(start, "24h", always) == start.astimezone(timezone.utc) + timedelta(hours=24) == local(2026, 3, 8, 13, 0)


@pytest.mark.parametrize(("start", "within", "expected"), [
    (local(2026, 11, 20, 15, 0), "1d", local(2026, 11, 23, 15, 0)),  # Friday 3 pm: Monday 3 pm
    (local(2026, 11, 21, 11, 0), "1d", local(2026, 11, 24, 9, 0)),   # Saturday: the clock starts Monday at 9
    (local(2026, 11, 17, 18, 0), "2d", local(2026, 11, 20, 9, 0)),   # after closing: from Wednesday's opening
    (local(2026, 6, 23, 10, 0), "1d", local(2026, 6, 25, 10, 0)),    # over the Fête nationale
    (local(2026, 11, 16, 10, 0), "5d", local(2026, 11, 23, 10, 0)),  # a week of open days
])
def test_days_count_open_days_at_the_same_point_of_the_business_day(start, within, expected):
    assert due(start, within) == expected


def test_a_shorter_target_day_ends_at_its_closing_time():
    short_friday = Calendar(TORONTO, (NINE_TO_FIVE,) * 4 + (((9 * 60, 12 * 60),), (), ()))
    assert due(local(2026, 11, 19, 16, 0), "1d", short_friday) == local(2026, 11, 20, 12, 0)


def test_a_lunch_break_is_not_business_time():
    lunch = Calendar(TORONTO, (((9 * 60, 12 * 60), (13 * 60, 17 * 60)),) * 5 + ((), ()))
    assert due(local(2026, 11, 17, 11, 0), "2h", lunch) == local(2026, 11, 17, 14, 0)
    assert due(local(2026, 11, 17, 12, 30), "30m", lunch) == local(2026, 11, 17, 13, 30)
    assert due(local(2026, 11, 17, 14, 0), "1d", lunch) == local(2026, 11, 18, 14, 0)


@pytest.mark.parametrize("within", ["30m", "4h", "2d"])
def test_without_a_calendar_the_clock_runs_around_the_clock(within):
    saturday_night = local(2026, 11, 21, 23, 0)
    assert due(saturday_night, within, None) == saturday_night + timedelta(minutes=parse_duration(within).minutes)


def test_the_earliest_deadline_of_several_service_levels_applies():
    level = ServiceLevel((Duration(2, "d"), Duration(4, "h"), Duration(1, "d")), OFFICE)
    assert level.due(local(2026, 11, 17, 10, 0)) == (local(2026, 11, 17, 14, 0), Duration(4, "h"))


def test_a_deadline_at_the_far_end_of_time_is_none_rather_than_an_error():
    assert ServiceLevel((Duration(2, "d"),), None).due(datetime(9999, 12, 31, 20, 0, tzinfo=timezone.utc)) is None
    assert ServiceLevel((Duration(4, "h"),), OFFICE).due(datetime(9999, 12, 31, 20, 0, tzinfo=timezone.utc)) is None
    first_day = datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert OFFICE.local(first_day) is None and not OFFICE.is_open(first_day)
    assert ServiceLevel((Duration(4, "h"),), OFFICE).due(first_day) is None
    assert ServiceLevel((Duration(4, "h"),), None).due(first_day) == (first_day + timedelta(hours=4), Duration(4, "h"))


@pytest.mark.parametrize(("instant", "is_open"), [
    (local(2026, 11, 17, 9, 0), True),
    (local(2026, 11, 17, 16, 59), True),
    (local(2026, 11, 17, 17, 0), False),
    (local(2026, 11, 17, 8, 59), False),
    (local(2026, 11, 21, 12, 0), False),   # Saturday
    (local(2026, 6, 24, 12, 0), False),    # Fête nationale
    (datetime(2026, 11, 17, 15, 0, tzinfo=timezone.utc), True),  # 10:00 in Toronto
    (datetime(2026, 11, 17, 23, 0, tzinfo=timezone.utc), False),  # 18:00 in Toronto
])
def test_is_open(instant, is_open):
    assert OFFICE.is_open(instant) is is_open


@pytest.mark.parametrize(("text", "minutes"), [("30m", 30), ("4h", 240), ("2d", 2880), ("90d", 129600),
                                               ("2160h", 129600), ("1m", 1)])
def test_durations(text, minutes):
    assert parse_duration(text).minutes == minutes
    assert str(parse_duration(text)) == text


@pytest.mark.parametrize(("value", "message"), [
    ("4 hours", '"4 hours" is not a whole number and a unit'),
    ("4H", '"4H" is not a whole number and a unit'),
    ("1.5h", '"1.5h" is not a whole number and a unit'),
    ("-4h", '"-4h" is not a whole number and a unit'),
    ("h", '"h" is not a whole number and a unit'),
    ("\uff14h", '"\uff14h" is not a whole number and a unit'),  # a fullwidth digit
    ("0h", '"0h" is no time at all'),
    ("91d", '"91d" is longer than 90 days'),
    ("1000000m", '"1000000m" is not a whole number and a unit'),
    (30, "30 has no unit"),
    (True, "True has no unit"),
    (None, "must be a whole number and a unit"),
    (["4h"], "must be a whole number and a unit"),
])
def test_duration_errors(value, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value).startswith(message)


def test_a_service_level_must_fit_in_a_year_of_opening_hours():
    one_hour_a_week = Calendar(TORONTO, (((9 * 60, 10 * 60),),) + ((),) * 6)
    check_fits(parse_duration("52h"), one_hour_a_week)
    check_fits(parse_duration("52d"), one_hour_a_week)
    with pytest.raises(ValueError, match="53h of business time needs 53 weeks"):
        check_fits(parse_duration("53h"), one_hour_a_week)
    with pytest.raises(ValueError, match="53d of business time needs 53 weeks"):
        check_fits(parse_duration("53d"), one_hour_a_week)


def test_the_longest_service_level_allowed_still_finds_its_deadline():
    one_hour_a_week = Calendar(TORONTO, (((9 * 60, 10 * 60),),) + ((),) * 6, OFFICE.holidays)
    start = local(2026, 1, 1, 12, 0)
    assert due(start, "52h", one_hour_a_week) == local(2026, 12, 28, 10, 0)
    # The clock starts on Monday 5 January; 52 Mondays later.
    assert due(start, "52d", one_hour_a_week) == local(2027, 1, 4, 9, 0)


@pytest.mark.parametrize(("text", "hours"), [
    ("18-8", {18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7}),
    ("9-17", set(range(9, 17))),
    ("9", {9}),
    ("0", {0}),
    ("7-9,17-19", {7, 8, 17, 18}),
    ("22-24", {22, 23}),
    ("0-24", set(range(24))),
])
def test_hours(text, hours):
    assert parse_hours(text) == hours


@pytest.mark.parametrize("text", ["24", "9-9", "25-3", "a-b", "", "9-", "-9", "9-25", " 9", "9..17", "09-17-18",
                                  "\uff19"])
def test_hour_errors(text):
    with pytest.raises(ValueError):
        parse_hours(text)


@pytest.mark.parametrize(("text", "days"), [
    ("mon-fri", (0, 1, 2, 3, 4)),
    ("sat,sun", (5, 6)),
    ("fri-mon", (4, 5, 6, 0)),
    ("wed", (2,)),
    ("mon,wed-thu", (0, 2, 3)),
])
def test_weekdays(text, days):
    assert parse_weekdays(text) == days


@pytest.mark.parametrize("text", ["monday", "Mon", "", "mon-", "mon,,tue", "lun"])
def test_weekday_errors(text):
    with pytest.raises(ValueError, match="is not a weekday"):
        parse_weekdays(text)


@pytest.mark.parametrize(("text", "span"), [("09:00-17:00", (540, 1020)), ("00:00-24:00", (0, 1440)),
                                            ("08:30-12:15", (510, 735))])
def test_spans(text, span):
    assert parse_span(text) == span


@pytest.mark.parametrize(("text", "message"), [
    ("9:00-17:00", '"9:00" is not a time'),
    ("09:00-25:00", '"25:00" is not a time'),
    ("09:60-10:00", '"09:60" is not a time'),
    ("09:00", '"09:00" is not opening hours'),
    ("17:00-09:00", '"17:00-09:00" closes before it opens'),
    ("09:00-09:00", '"09:00-09:00" closes before it opens'),
    ("24:00-24:00", '"24:00-24:00" closes before it opens'),
])
def test_span_errors(text, message):
    with pytest.raises(ValueError) as caught:
        parse_span(text)
    assert str(caught.value).startswith(message)
