"""Service levels and local-time matchers in a config: loading, errors on their line, decisions, tree, explain, tests."""

import json
from datetime import datetime, timezone

import pytest

from router.classify.labels import LABELS, Classification
from router.classify.model import Classifier
from router.conversations import Conversation
from router.errors import ConfigError
from router.mentions import Mention
from router.pipeline import Record, Router, route_batch
from router.rules import RoutingConfig, load_config
from router.rules.render import render_explanation, render_tree
from router.rules.testing import run_tests
from router.settings import REPO_ROOT

CONFIG = """\
org_model: hub_and_spoke
departments: {marketing: q.m, customer_service: q.cs, public_affairs: q.pa, sales: q.s}
topics: {hub: q.hub}
calendar:
  time_zone: America/Toronto
  hours:
    mon-fri: "09:00-17:00"
  holidays: [2026-06-24, "2026-07-01"]
route:
  name: root
  owner: marketing
  respond_within: 2d
  routes:
    - name: vip
      match: ['author.followers >= 10000']
      continue: true
      respond_within: 1h
    - name: after-hours-sales
      match: ['label = sales_lead', business_hours = false]
      owner: sales
      tags: [after-hours]
    - name: night-owls
      match: ['hour = 22-6', 'weekday = mon-fri']
      owner: customer_service
      tags: [night]
    - name: complaint
      match: ['label = complaint']
      owner: customer_service
      respond_within: 4h
      routes:
        - name: complaint-weekend
          match: ['weekday = sat,sun']
          tags: [weekend]
    - name: crisis
      match: ['label = pr_crisis']
      owner: public_affairs
      respond_within: 30m
"""


def classified(label: str) -> Classification:
    return Classification(label, 0.9, {name: 0.9 if name == label else 0.025 for name in LABELS})


def mention(created_at: str, **fields) -> Mention:
    return Mention.model_validate({"id": "m-1", "source": "linkedin", "text": "hello", "created_at": created_at,
                                   **fields})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def config(tmp_path) -> RoutingConfig:
    path = tmp_path / "router.yaml"
    path.write_text(CONFIG)
    return load_config(path)


def decide(config: RoutingConfig, label: str, created_at: str, **fields):
    return config.decide(mention(created_at, **fields), classified(label), low_confidence=False)


def test_due_by_counts_business_hours_from_the_mention_own_time(config):
    # Tuesday 16:00 in Toronto; a complaint is due four business hours later: Wednesday 12:00 (17:00 UTC).
    decision = decide(config, "complaint", "2026-11-17T21:00:00Z")
    assert decision.due_by == utc(2026, 11, 18, 17, 0)
    assert decision.as_dict()["due_by"] == "2026-11-18T17:00:00+00:00"


def test_a_child_inherits_its_parent_service_level(config):
    # Saturday: the weekend complaint inherits 4h, counted from Monday's opening.
    decision = decide(config, "complaint", "2026-11-21T15:00:00Z")
    assert decision.route == ("root", "complaint", "complaint-weekend")
    assert decision.due_by == utc(2026, 11, 23, 18, 0)


def test_days_are_open_days(config):
    # Other mentions fall to the root: two open days, over a holiday (Wednesday 24 June) and the weekend.
    assert decide(config, "other", "2026-06-23T14:00:00Z").due_by == utc(2026, 6, 26, 14, 0)


def test_a_continue_route_with_a_shorter_service_level_brings_the_deadline_forward(config):
    decision = decide(config, "complaint", "2026-11-17T15:00:00Z", author={"followers": 50000})
    assert decision.route == ("root", "complaint")
    assert decision.due_by == utc(2026, 11, 17, 16, 0)  # 1h, not 4h


def test_a_crisis_clock_runs_around_the_clock(config):
    # Saturday night: a scandal does not wait for Monday morning.
    assert decide(config, "pr_crisis", "2026-11-22T03:00:00Z").due_by == utc(2026, 11, 22, 3, 30)


def test_the_same_route_gives_each_mention_its_own_due_by(config):
    # Decisions are memoised per route; their deadlines are not.
    first = decide(config, "complaint", "2026-11-17T15:00:00Z")
    second = decide(config, "complaint", "2026-11-18T15:00:00Z")
    assert first.route == second.route
    assert (first.due_by, second.due_by) == (utc(2026, 11, 17, 19, 0), utc(2026, 11, 18, 19, 0))


def test_no_respond_within_means_no_due_by(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("  respond_within: 2d\n", ""))
    config = load_config(path)
    decision = decide(config, "other", "2026-11-17T15:00:00Z")
    assert decision.due_by is None and decision.as_dict()["due_by"] is None
    explanation = config.explain(mention("2026-11-17T15:00:00Z"), classified("other"), low_confidence=False)
    assert render_explanation(config, explanation, 0.5)[-1] == "  due_by: - (no respond_within)"


def test_without_a_calendar_due_by_is_wall_clock(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.split("calendar:")[0] + "route:\n  name: root\n  owner: marketing\n  respond_within: 2d\n")
    assert decide(load_config(path), "other", "2026-11-21T15:00:00Z").due_by == utc(2026, 11, 23, 15, 0)


@pytest.mark.parametrize(("label", "created_at", "route"), [
    ("sales_lead", "2026-11-17T23:30:00Z", ("root", "after-hours-sales")),  # Tuesday 18:30 in Toronto
    ("sales_lead", "2026-11-17T15:00:00Z", ("root",)),                      # Tuesday 10:00: open
    ("sales_lead", "2026-06-24T15:00:00Z", ("root", "after-hours-sales")),  # a holiday is after hours
    ("other", "2026-11-18T04:00:00Z", ("root", "night-owls")),              # Tuesday 23:00
    ("other", "2026-11-18T10:59:00Z", ("root", "night-owls")),              # Wednesday 05:59
    ("other", "2026-11-18T11:00:00Z", ("root",)),                           # Wednesday 06:00: 22-6 ends at 6
    ("other", "2026-11-22T04:00:00Z", ("root",)),                           # Saturday 23:00: not mon-fri
    ("complaint", "2026-11-22T04:00:00Z", ("root", "complaint", "complaint-weekend")),
])
def test_local_time_matchers_read_the_company_clock(config, label, created_at, route):
    assert decide(config, label, created_at).route == route


def test_the_tree_shows_the_calendar_and_each_service_level(config):
    lines = render_tree(config)
    assert lines[1] == "calendar: America/Toronto, mon-fri 09:00-17:00; 2 holidays"
    assert lines[lines.index("routes:") + 1].endswith("-> owner=marketing priority=normal respond_within=2d")
    assert any("after-hours-sales  [label = sales_lead, business_hours = false]" in line for line in lines)
    assert any("night-owls  [hour = 22-6, weekday = mon-fri]" in line for line in lines)
    assert any(line.endswith("respond_within=4h") and "complaint-weekend" in line for line in lines)


def test_explain_shows_the_local_time_and_why_due_by_is_what_it_is(config):
    explanation = config.explain(mention("2026-11-21T15:00:00Z"), classified("complaint"), low_confidence=False)
    lines = render_explanation(config, explanation, 0.5)
    assert "local time: sat 2026-11-21 10:00 America/Toronto (closed)" in lines
    assert "      complaint-weekend: matched: weekday = sat,sun: yes (weekday is \"sat\")  <- decides" in lines
    assert "    night-owls: no match: hour = 22-6: no (hour is 10); weekday = mon-fri: no (weekday is \"sat\")" in lines
    assert ("  due_by: 2026-11-23T18:00:00+00:00 (respond within 4h of business time, America/Toronto)"
            in lines)
    crisis = config.explain(mention("2026-11-21T15:00:00Z"), classified("pr_crisis"), low_confidence=False)
    assert ("  due_by: 2026-11-21T15:30:00+00:00 (respond within 30m, around the clock: a crisis)"
            in render_explanation(config, crisis, 0.5))


def test_explain_and_decide_agree_on_due_by(config):
    for created_at in ("2026-11-17T21:00:00Z", "2026-11-21T15:00:00Z", "2026-06-23T14:00:00Z"):
        for label in LABELS:
            decided = decide(config, label, created_at)
            explained = config.explain(mention(created_at), classified(label), low_confidence=False).decision
            assert decided == explained


TESTS = """\
tests:
  - name: a weekend complaint is due Monday
    label: complaint
    mention: {source: twitter, text: "cold room", created_at: 2026-11-21T15:00:00Z}
    expect: {owner: customer_service, due_by: "2026-11-23T13:00:00-05:00"}
  - name: written as a YAML timestamp
    label: complaint
    mention: {source: twitter, text: "cold room", created_at: 2026-11-21T15:00:00Z}
    expect: {due_by: 2026-11-23T18:00:00Z}
  - name: a wrong due_by fails
    label: complaint
    mention: {source: twitter, text: "cold room", created_at: 2026-11-21T15:00:00Z}
    expect: {due_by: 2026-11-23T19:00:00Z}
"""


def test_a_tests_file_can_expect_due_by(tmp_path):
    (tmp_path / "router.yaml").write_text(CONFIG)
    (tmp_path / "router.tests.yaml").write_text(TESTS)
    report = run_tests(load_config(tmp_path / "router.yaml"), tmp_path / "router.tests.yaml")
    assert [result.problems for result in report.results] == [
        [], [], ["due_by: expected 2026-11-23T19:00:00+00:00, got 2026-11-23T18:00:00+00:00"]]


def test_a_tests_file_due_by_needs_a_zone(tmp_path):
    (tmp_path / "router.yaml").write_text(CONFIG)
    (tmp_path / "router.tests.yaml").write_text(TESTS.replace('"2026-11-23T13:00:00-05:00"', '"2026-11-23 13:00"'))
    with pytest.raises(ConfigError, match=r"router.tests.yaml:5: test \"a weekend complaint is due Monday\": "
                                          r"expect.due_by must be null or a date and time with its zone"):
        run_tests(load_config(tmp_path / "router.yaml"), tmp_path / "router.tests.yaml")


def error_of(tmp_path, text: str) -> str:
    path = tmp_path / "router.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).removeprefix(f"{path}:")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("time_zone: America/Toronto", "time_zone: America/Toronot",
     '5: unknown time zone "America/Toronot" (did you mean "America/Toronto"?)'),
    ("time_zone: America/Toronto", "time_zone: localtime", '5: unknown time zone "localtime"'),
    ("time_zone: America/Toronto", "time_zone: ../../etc/passwd", '5: unknown time zone "../../etc/passwd"'),
    ("time_zone: America/Toronto", "time_zone: 5", "5: calendar time_zone must be a non-empty string, got 5"),
    ("  time_zone: America/Toronto\n", "", '5: calendar is missing the required key "time_zone"'),
    ("  hours:\n    mon-fri: \"09:00-17:00\"\n", "", '5: calendar is missing the required key "hours"'),
    ("  holidays:", "  holiday:", '8: calendar has unknown key "holiday" (did you mean "holidays"?)'),
    ("mon-fri:", "monday-friday:", '7: calendar hours: "monday" is not a weekday'),
    ('mon-fri: "09:00-17:00"', 'mon-fri: "09:00-17:00"\n    fri: "09:00-12:00"',
     "8: calendar hours give fri twice (first at line 7)"),
    ('"09:00-17:00"', '"9-17"', '7: calendar hours of mon-fri: "9" is not a time from 00:00 to 24:00 written HH:MM'),
    ('"09:00-17:00"', '"09:00"', '7: calendar hours of mon-fri: "09:00" is not opening hours such as "09:00-17:00"'),
    ('"09:00-17:00"', '"17:00-09:00"', '7: calendar hours of mon-fri: "17:00-09:00" closes before it opens'),
    ('"09:00-17:00"', '["09:00-13:00", "12:00-17:00"]',
     "7: calendar hours of mon-fri overlap: 09:00-13:00 and 12:00-17:00"),
    ('"09:00-17:00"', "540", '7: calendar hours of mon-fri: expected opening hours such as "09:00-17:00", '
                             "a list of them, or closed; got 540"),
    ('"09:00-17:00"', "closed", "6: calendar hours open on no day"),
    ('2026-06-24, "2026-07-01"', '2026-06-24, "July 1st"', "8: calendar holidays: expected a date such as "
                                                           '2026-06-24, got "July 1st"'),
    ('2026-06-24, "2026-07-01"', '2026-06-24, "2026-02-30"', "8: calendar holidays: expected a date"),
    ('2026-06-24, "2026-07-01"', "2026-06-24, 2026-06-24T10:00:00Z", "8: calendar holidays: expected a date"),
    ('2026-06-24, "2026-07-01"', '2026-06-24, "2026-06-24"', "8: calendar holidays list 2026-06-24 twice"),
    ("  respond_within: 2d", "  respond_within: 2 days",
     '12: route "root": respond_within "2 days" is not a whole number and a unit, m (minutes), h (hours) or d (days), '
     "such as 30m, 4h or 2d"),
    ("  respond_within: 2d", "  respond_within: 48", '12: route "root": respond_within 48 has no unit'),
    ("      respond_within: 1h", "      respond_within: 0m", '17: route "vip": respond_within "0m" is no time at all'),
    ("      respond_within: 4h", "      respond_within: 400d",
     '29: route "complaint": respond_within "400d" is longer than 90 days'),
    ("      respond_within: 4h", "      respond_wihtin: 4h",
     '29: route "complaint" has unknown key "respond_wihtin" (did you mean "respond_within"?)'),
    ("'hour = 22-6'", "'hour >= 22'", "23: route \"night-owls\" has an invalid matcher 'hour >= 22': compare "
                                      '"hour" with = or != and a list, such as hour = 18-8; not >='),
    ("'hour = 22-6'", "'hour = 22-22'", '23: route "night-owls" has an invalid matcher \'hour = 22-22\': "22-22" holds '
                                        "no hour"),
    ("'weekday = mon-fri'", "'weekday = weekdays'", "23: route \"night-owls\" has an invalid matcher 'weekday = "
                                                    "weekdays': \"weekdays\" is not a weekday: use mon, tue, wed, "
                                                    "thu, fri, sat, sun, a range such as mon-fri, or a list such as "
                                                    "sat,sun"),
    ("'weekday = mon-fri'", "'weekday =~ \"mon.*\"'", "23: route \"night-owls\" has an invalid matcher 'weekday =~ "
                                                      "\"mon.*\"': compare \"weekday\" with = or != and a list, "
                                                      "such as weekday = sat,sun; not =~"),
    ("business_hours = false", "business_hours = no", "19: route \"after-hours-sales\" has an invalid matcher "
                                                      "'business_hours = no': \"business_hours\" is true or false, "
                                                      "but got \"no\""),
    ("'weekday = mon-fri'", "weekday: [mon, tue]",
     "23: route \"night-owls\" has a matcher written as a mapping: write it as a string, such as 'weekday = mon,tue'"),
    ("business_hours = false", "business_hours: false",
     "19: route \"after-hours-sales\" has a matcher written as a mapping: write it as a string, such as "
     "'business_hours = false'"),
])
def test_errors_name_their_line(tmp_path, old, new, message):
    assert old in CONFIG
    assert error_of(tmp_path, CONFIG.replace(old, new, 1)).startswith(message)


def test_hours_of_the_week_must_fit_the_longest_service_level(tmp_path):
    text = CONFIG.replace('mon-fri: "09:00-17:00"', 'sat: "10:00-11:00"').replace("respond_within: 4h",
                                                                                 "respond_within: 60h")
    assert error_of(tmp_path, text) == ('29: route "complaint": respond_within 60h of business time needs 60 weeks '
                                        "of the calendar's opening hours; at most 52 are allowed")


@pytest.mark.parametrize("matcher", ["hour = 18-8", "weekday = sat,sun", "business_hours = true"])
def test_local_time_matchers_need_a_calendar(tmp_path, matcher):
    text = CONFIG.split("calendar:")[0] + f"route:\n  name: root\n  owner: marketing\n  routes:\n" \
                                          f"    - name: late\n      match: ['{matcher}']\n      tags: [late]\n"
    assert error_of(tmp_path, text) == (f"9: route \"late\" has an invalid matcher '{matcher}': \"{matcher.split()[0]}\" "
                                        "is read on the company's clock: declare a calendar (time_zone and hours) at "
                                        "the top of the config")


def test_a_decision_document_carries_due_by_in_utc(config):
    decision = decide(config, "complaint", "2026-11-17T16:00:00-05:00")
    assert json.loads(json.dumps(decision.as_dict()))["due_by"] == "2026-11-18T17:00:00+00:00"


def test_the_worker_and_a_replay_give_the_same_due_by():
    router = Router(Classifier.load(), load_config(REPO_ROOT / "config" / "router.yaml"))
    record = Record(json.dumps({"id": "m-1", "source": "twitter", "text": "My room was dirty and cold, I want a refund",
                                "created_at": "2026-11-20T20:00:00Z"}).encode())
    [worker] = route_batch([record], router, datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc))  # the wall clock
    [replay] = route_batch([record], router, None)  # event time
    assert worker.routing_document()["routed_at"] != replay.routing_document()["routed_at"]
    assert worker.decision.due_by == replay.decision.due_by is not None
    assert worker.routing_document()["due_by"] == replay.routing_document()["due_by"]


# --- service levels in threads: a reply keeps its thread's owner and gets the due_by of its own routes -------------

THREAD = Conversation(owner="sales", owner_mention="m-0")


def reply(config: RoutingConfig, label: str, created_at: str, thread: Conversation | None = THREAD):
    return config.route(mention(created_at, thread_id="t-1"), classified(label), classifier=ThresholdOnly(),
                        thread=thread).decision


class ThresholdOnly:
    threshold = 0.5


def test_a_reply_that_keeps_its_thread_owner_is_due_as_its_own_routes_say(config):
    # Tuesday 16:00 in Toronto: the complaint route promises 4h, whoever owns the thread.
    kept = reply(config, "complaint", "2026-11-17T21:00:00Z")
    assert (kept.owner, kept.thread_owner, kept.route) == ("sales", True, ("root", "complaint"))
    assert kept.due_by == utc(2026, 11, 18, 17, 0)


def test_the_memoised_decision_of_a_route_depends_on_the_thread_owner_not_on_the_time(config):
    # The same routes matched: alone, in a thread, in another thread; each keeps its owner and its own due_by.
    alone = reply(config, "complaint", "2026-11-17T15:00:00Z", thread=None)
    kept = reply(config, "complaint", "2026-11-18T15:00:00Z")
    other = reply(config, "complaint", "2026-11-19T15:00:00Z", thread=Conversation(owner="marketing"))
    again = reply(config, "complaint", "2026-11-20T15:00:00Z", thread=None)
    assert [d.owner for d in (alone, kept, other, again)] == ["customer_service", "sales", "marketing",
                                                              "customer_service"]
    assert [d.thread_owner for d in (alone, kept, other, again)] == [False, True, True, False]
    assert [d.due_by for d in (alone, kept, other, again)] == [utc(2026, 11, 17, 19, 0), utc(2026, 11, 18, 19, 0),
                                                               utc(2026, 11, 19, 19, 0), utc(2026, 11, 20, 19, 0)]


def test_a_crisis_reply_is_not_kept_and_its_clock_runs_around_the_clock(config):
    crisis = reply(config, "pr_crisis", "2026-11-22T03:00:00Z")  # Saturday night
    assert (crisis.owner, crisis.thread_owner, crisis.due_by) == ("public_affairs", False, utc(2026, 11, 22, 3, 30))


def test_explain_of_a_reply_shows_its_thread_owner_and_its_due_by(config):
    explanation = config.route(mention("2026-11-21T15:00:00Z", thread_id="t-1"), classified("complaint"),
                               classifier=ThresholdOnly(), trace=[], thread=THREAD)
    lines = render_explanation(config, explanation, 0.5)
    assert "  owner: sales" in lines
    assert "  due_by: 2026-11-23T18:00:00+00:00 (respond within 4h of business time, America/Toronto)" in lines
    assert "  thread owner: sales, kept (the rules alone would choose customer_service)" in lines
    assert explanation.decision == reply(config, "complaint", "2026-11-21T15:00:00Z")


def test_a_tests_file_can_expect_due_by_of_a_reply(tmp_path):
    (tmp_path / "router.yaml").write_text(CONFIG)
    (tmp_path / "router.tests.yaml").write_text("""\
tests:
  - name: a weekend complaint in a sales thread stays with sales, due Monday
    label: complaint
    thread_owner: sales
    mention: {source: twitter, text: "cold room", thread_id: t-1, created_at: 2026-11-21T15:00:00Z}
    expect: {owner: sales, due_by: "2026-11-23T13:00:00-05:00"}
""")
    report = run_tests(load_config(tmp_path / "router.yaml"), tmp_path / "router.tests.yaml")
    assert [result.problems for result in report.results] == [[]]
