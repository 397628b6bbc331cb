"""The `crisis:` section: what it compiles to, and every mistake refused with its file, line and reason."""

import textwrap

import pytest

from router.cli import main
from router.errors import ConfigError
from router.rules import load_config

HEAD = """\
org_model: hub_and_spoke
departments:
  customer_service: dept.cs
  public_affairs: dept.pa
  legal: dept.legal
topics:
  hub: social.hub
route:
  name: root
  owner: customer_service
"""
# Lines 1-10 are HEAD; the crisis section starts at line 11.
SECTION = """\
crisis:
  window: 1h
  hop: 15m
  baseline: 24h
  calm: 2h
  scopes:
    brand: {min_count: 10, ratio: 4}
    topic: {min_count: 12, ratio: 5, terms: true}
  brands:
    hotel: {twitter: ["@Hotel"], facebook: ["1001"]}
  influencers: {verified: true}
  override: {priority: urgent, copies: [public_affairs], tags: [incident], escalate: true}
  incident: {owner: public_affairs, copies: [legal, public_affairs]}
"""


def write(tmp_path, section: str):
    path = tmp_path / "router.yaml"
    path.write_text(HEAD + textwrap.dedent(section), encoding="utf-8")
    return path


def error_of(tmp_path, section: str) -> str:
    path = write(tmp_path, section)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def test_the_section_compiles_to_settings(tmp_path):
    crisis = load_config(write(tmp_path, SECTION)).crisis
    assert crisis is not None and crisis.enabled
    assert (crisis.window, crisis.hop, crisis.baseline, crisis.calm) == (3600, 900, 86400, 7200)
    assert [(r.kind, r.min_count, r.ratio, r.hashtags, r.terms) for r in crisis.scopes] == [
        ("brand", 10, 4.0, False, False), ("topic", 12, 5.0, True, True)]
    assert crisis.brands == {("twitter", "hotel"): "hotel", ("facebook", "1001"): "hotel"}
    assert crisis.labels == {"complaint", "pr_crisis"}
    assert (crisis.influencers.verified, crisis.influencers.followers) == (True, None)
    assert crisis.override.copies == ("public_affairs",) and crisis.override.escalate
    assert (crisis.incident.owner, crisis.incident.copies, crisis.incident.priority) == ("public_affairs", ("legal",),
                                                                                         "urgent")


def test_without_a_hop_the_windows_tumble_and_without_a_section_there_is_no_crisis_mode(tmp_path):
    crisis = load_config(write(tmp_path, SECTION.replace("  hop: 15m\n", ""))).crisis
    assert crisis is not None and crisis.hop == crisis.window == 3600
    assert load_config(write(tmp_path, "")).crisis is None


def test_check_config_tree_shows_the_section(tmp_path, capsys):
    assert main(["check-config", "--tree", str(write(tmp_path, SECTION))]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index(next(line for line in out if line.startswith("crisis: ")))
    assert out[start:out.index("routes:")] == [
        "crisis: on; counts complaint, pr_crisis and escalations; window 1h every 15m, baseline 24h, resolved after "
        "2h calm",
        "  scope brand: trips at 10 or more and 4 × baseline",
        "  scope topic (hashtags, terms): trips at 12 or more and 5 × baseline",
        "  brand hotel: twitter hotel, facebook 1001",
        "  influencers: verified (one negative mention opens an incident)",
        "  override for the mentions of an open incident: priority at least urgent; copies public_affairs; tags "
        "incident; escalate (delivered as a crisis)",
        "  incident record: owner public_affairs, copies legal, priority urgent",
    ]


def section_with(old: str, new: str) -> str:
    assert old in SECTION
    return SECTION.replace(old, new)


@pytest.mark.parametrize("section, expected", [
    ("crisis: true\n", "11: crisis must be a mapping of keys to values"),
    (section_with("  calm: 2h\n", "  calm: 2h\n  windw: 1h\n"), '16: crisis has unknown key "windw" (did you mean "window"?)'),
    (section_with("  calm: 2h\n", ""), '12: crisis is missing the required key "calm"'),
    (section_with("window: 1h", "window: 60"), "12: crisis window must be a duration such as 90s, 15m, 1h or 2d "
                                               "(at most 90d), got 60"),
    (section_with("window: 1h", "window: 1 h"), '12: crisis window must be a duration such as 90s, 15m, 1h or 2d '
                                                '(at most 90d), got "1 h"'),
    (section_with("calm: 2h", "calm: 0m"), '15: crisis calm must be a duration such as 90s, 15m, 1h or 2d (at most '
                                           '90d), got "0m"'),
    (section_with("hop: 15m", "hop: 25m"), "13: crisis window (3600s) must be a whole number of hops (1500s), at "
                                           "most 60"),
    (section_with("baseline: 24h", "baseline: 30m"), "14: crisis baseline (1800s) must be at least the window "
                                                     "(3600s) and a whole number of hops (900s), at most 2016 of them"),
    (section_with("baseline: 24h", "baseline: 30d"), "14: crisis baseline (2592000s) must be at least the window "
                                                     "(3600s) and a whole number of hops (900s), at most 2016 of them"),
    (section_with("  window: 1h\n", "  window: 1h\n  labels: [complaint, angry]\n"),
     '13: crisis counts unknown label "angry" (known: complaint, sales_lead, recruitment, pr_crisis, other)'),
    (section_with("    brand: {min_count: 10, ratio: 4}\n", "    brand: {min_count: 10, ratio: 4}\n    region: {}\n"),
     '18: crisis scopes has unknown key "region" (expected one of: brand, unit, topic)'),
    (section_with("brand: {min_count: 10, ratio: 4}", "brand: {min_count: 0, ratio: 4}"),
     "17: crisis scope brand: min_count must be a whole number from 1 to 1000000, got 0"),
    (section_with("brand: {min_count: 10, ratio: 4}", "brand: {min_count: 10, ratio: 0.5}"),
     "17: crisis scope brand: ratio must be a number from 1 to 1000 (times the baseline a window must hold), got 0.5"),
    (section_with("brand: {min_count: 10, ratio: 4}", "brand: {min_count: 10}"),
     '17: crisis scope brand is missing the required key "ratio"'),
    (section_with("brand: {min_count: 10, ratio: 4}", "brand: {min_count: 10, ratio: 4, terms: true}"),
     '17: crisis scope brand has unknown key "terms" (expected one of: min_count, ratio)'),
    (section_with("terms: true}", "hashtags: false}"),
     "18: crisis scope topic needs hashtags: true or terms: true, else it has no topics"),
    (section_with("terms: true}", 'terms: "yes"}'), '18: crisis terms must be true or false, got "yes"'),
    (section_with("  scopes:\n    brand: {min_count: 10, ratio: 4}\n    topic: {min_count: 12, ratio: 5, terms: true}\n",
                  "  scopes: {}\n"), "16: crisis scopes is empty: give at least one of brand, unit, topic"),
    (section_with('facebook: ["1001"]', 'facebook: ["1001"], myspace: ["x"]'),
     '20: brand "hotel" accounts has unknown key "myspace" (expected one of: twitter, tripadvisor, facebook, '
     'linkedin)'),
    (section_with('    hotel: {twitter: ["@Hotel"], facebook: ["1001"]}\n',
                  '    hotel: {twitter: ["@Hotel"]}\n    spa: {twitter: [hotel]}\n'),
     '21: twitter account "hotel" already belongs to brand "hotel" (line 20)'),
    (section_with("    hotel: {", "    hot el: {"), '20: invalid brand name "hot el": use letters, digits, "_", "-" or "."'),
    (section_with("influencers: {verified: true}", "influencers: {verified: false}"),
     "21: crisis influencers names nobody: give verified: true, followers: N, or both"),
    (section_with("influencers: {verified: true}", "influencers: {followers: -5}"),
     "21: crisis influencers: followers must be a whole number of at least 1, got -5"),
    (section_with("priority: urgent, copies: [public_affairs]", "priority: asap, copies: [public_affairs]"),
     '22: crisis override has unknown priority "asap" (expected one of: low, normal, high, urgent)'),
    (section_with("copies: [public_affairs], tags", "copies: [pr], tags"),
     '22: crisis override copies unknown department "pr" (declared: customer_service, legal, public_affairs)'),
    (section_with("escalate: true}", "owner: legal}"),
     '22: crisis override has unknown key "owner" (expected one of: priority, copies, tags, escalate)'),
    (section_with("incident: {owner: public_affairs, ", "incident: {"),
     '23: crisis incident is missing the required key "owner"'),
    (section_with("incident: {owner: public_affairs", "incident: {owner: comms"),
     '23: crisis incident names unknown department "comms" (declared: customer_service, legal, public_affairs)'),
    (section_with("  window: 1h\n", "  window: 1h\n  enabled: sometimes\n"),
     '13: crisis enabled must be true or false, got "sometimes"'),
])
def test_a_bad_crisis_section_is_refused_with_its_line(tmp_path, section, expected):
    assert error_of(tmp_path, section) == expected


def test_check_config_reports_the_bad_line(tmp_path, capsys):
    path = write(tmp_path, section_with("calm: 2h", "calm: soon"))
    assert main(["check-config", str(path)]) == 1
    assert capsys.readouterr().out == (f'{path}: FAILED: {path}:15: crisis calm must be a duration such as 90s, 15m, '
                                       '1h or 2d (at most 90d), got "soon"\n')
