"""The crisis detector alone: spikes against a baseline, influencers, resolution, ids, and its changelog."""

import json

from crisis_doubles import SETTINGS, T0, after, calm_day, events, feed_all, signal, spike

from router.crisis.detector import Detector, incident_id
from router.crisis.settings import CrisisSettings, ScopeRule


def run(signals, settings=SETTINGS):
    detector = Detector(settings)
    return detector, feed_all(detector, signals)


def test_a_spike_opens_one_incident_that_resolves_after_the_calm_time():
    detector, verdicts = run([*calm_day(), *spike(), *after()])
    found = events(verdicts)
    # It reports again each time its highest count has grown by half: 5, 8, 12, 18.
    assert [state for state, _, _ in found] == ["opened", "updated", "updated", "updated", "resolved"]
    assert len({incident for _, incident, _ in found}) == 1 and {scope for _, _, scope in found} == {"brand:hotel"}
    opened = next(e for v in verdicts for e in v.events if e.state == "opened")
    # Five mentions in the window, against a baseline of half a mention per hour: min_count 5 decides.
    assert (opened.count, opened.baseline, opened.threshold) == (5, 0.5, 5)
    assert opened.example_ids == ("spike-0", "spike-1", "spike-2", "spike-3", "spike-4")
    # The window is the hour ending with the quarter of the mention that tripped it.
    assert opened.opened_at == T0 + 42 * 60 and opened.start == T0 - 900 and opened.end == T0 + 2700
    resolved = verdicts[-1 - next(i for i, v in enumerate(reversed(verdicts)) if v.events)].events[-1]
    # The last quarter of the spike (1:15 to 1:30) holds 5 mentions: every window holding it, until the one ending
    # at 2:15, is at the threshold; two hours of calm after that.
    assert resolved.resolved_at == T0 + 4 * 3600 + 900 and resolved.count == 20 and "#legionella" in resolved.top_terms
    assert not detector.open_incidents()


def test_every_mention_of_the_scope_belongs_to_the_incident_while_it_lasts():
    _, verdicts = run([*calm_day(), *spike(), *after()])
    first = [verdict.incident for verdict in verdicts]
    members = [s.mention_id for s, incident in zip([*calm_day(), *spike(), *after()], first) if incident]
    assert members[0] == "spike-4" and "spike-19" in members  # from the mention that tripped it
    assert "after-1" in members  # uncounted mentions of the scope too
    assert "after-0" not in members  # another brand
    assert all(not m.startswith("calm") for m in members)
    assert len({incident.id for incident in first if incident}) == 1


def test_a_calm_archive_opens_nothing_and_a_steady_scope_needs_more_than_min_count():
    # Six an hour for two days: over min_count every hour, never over 3 × the baseline once it has one.
    busy = calm_day(every=10, hours=48)
    _, verdicts = run(busy)
    assert events(verdicts) == []
    # With that baseline of 6, 18 in an hour trips and 12 does not.
    _, verdicts = run([*busy, *spike(count=12, every=5)])
    assert events(verdicts) == []
    _, verdicts = run([*busy, *spike(count=24, every=2.5)])
    assert [state for state, _, _ in events(verdicts)][:1] == ["opened"]


def test_one_influencer_opens_an_incident_alone_and_keeps_it_open_while_they_post():
    stream = [*calm_day(), signal("star", 10, influential=True), signal("fan", 20, counted=False)]
    detector, verdicts = run(stream)
    opened = verdicts[-2].events
    assert [(e.state, e.trigger, e.count) for e in opened] == [("opened", "influencer", 1)]
    assert verdicts[-2].incident == verdicts[-1].incident is not None  # the next mention of the brand belongs to it
    verdict = detector.tick(T0 + 15 * 60 + 2 * 3600)  # the influencer's quarter ends at 0:15, then 2 h of calm
    assert [(e.state, e.resolved_at) for e in verdict.events] == [("resolved", T0 + 15 * 60 + 2 * 3600)]


def test_an_uncounted_influencer_mention_opens_nothing():
    _, verdicts = run([signal("praise", 0, counted=False, influential=False)])
    assert events(verdicts) == []


def test_a_mention_opens_at_most_one_incident_and_topics_do_not_duplicate_a_brand():
    scopes = ("brand:hotel", "topic:#legionella")
    _, verdicts = run([*calm_day(), *spike(count=30, scopes=scopes)])
    assert {scope for _, _, scope in events(verdicts)} == {"brand:hotel"}
    # Mentions of the topic that no open incident covers open the topic's own.
    _, verdicts = run([*calm_day(), *spike(count=30, scopes=scopes), *spike(count=8, start=70, every=1,
                                                                          scopes=("topic:#legionella",))])
    assert [(state, scope) for state, _, scope in events(verdicts) if state == "opened"] == [
        ("opened", "brand:hotel"), ("opened", "topic:#legionella")]


def test_incident_ids_are_the_same_for_the_same_stream_and_name_scope_and_window():
    stream = [*calm_day(), *spike(), *after()]
    first, second = events(run(stream)[1]), events(run(stream)[1])
    assert first == second and first[0][1] == incident_id("brand:hotel", T0 - 900)
    assert incident_id("brand:hotel", T0) != incident_id("brand:golf", T0) != incident_id("brand:hotel", T0 + 900)


def test_restored_from_its_changelog_mid_spike_the_detector_goes_on_as_if_never_stopped():
    stream = [*calm_day(), *spike(), *after()]
    _, whole = run(stream)
    for cut in (len(calm_day()) + 3, len(calm_day()) + 10, len(calm_day()) + 20):
        detector, before = run(stream[:cut])
        changelog: dict[bytes, bytes | None] = {}
        for verdict in before:
            changelog.update(dict(verdict.entries))  # a compacted topic keeps each key's last entry
        restored = Detector(SETTINGS)
        for key, value in changelog.items():
            assert restored.restore(key, value) is None
        assert sorted(restored.entries()) == sorted(detector.entries())
        rest = feed_all(restored, stream[cut:])
        assert events(before) + events(rest) == events(whole)
        assert [v.incident for v in before + rest] == [v.incident for v in whole]


def test_entries_are_each_scope_whole_state_and_independent_of_each_other():
    detector, verdicts = run([*calm_day(scopes=("brand:hotel", "topic:spa")), *spike(scopes=("brand:hotel",))])
    keys = {key for verdict in verdicts for key, _ in verdict.entries}
    assert keys == {b"brand:hotel", b"topic:spa"}
    hotel = dict(detector.entries())[b"brand:hotel"]
    state = json.loads(hotel)
    assert state["incident"]["id"].startswith("inc-") and state["buckets"]
    alone = Detector(SETTINGS)  # one shard restores only its own scopes
    assert alone.restore(b"brand:hotel", hotel) is None
    assert [incident.scope for incident in alone.open_incidents()] == ["brand:hotel"]


def test_restore_refuses_what_is_not_a_scope_state_and_forgets_on_a_tombstone():
    detector = Detector(SETTINGS)
    assert detector.restore(b"\xff", b"{}") == "crisis changelog entry refused: the key is not UTF-8"
    problem = detector.restore(b"brand:x", b'{"hop": "900"}')
    assert problem is not None and problem.startswith("crisis changelog entry refused: hop: ")
    run_detector, _ = run([*calm_day(), *spike()])
    key, value = next(iter(run_detector.entries()))
    assert detector.restore(key, value) is None and len(detector) == 1
    assert detector.restore(key, None) is None and len(detector) == 0 and not detector.open_incidents()


def test_counts_of_another_hop_are_dropped_but_the_open_incident_carries_over():
    detector, _ = run([*calm_day(), *spike()])
    key, value = next(iter(detector.entries()))
    other = Detector(CrisisSettings(**{**SETTINGS.__dict__, "hop": 600}))
    assert other.restore(key, value) is None
    assert json.loads(next(iter(other.entries())).value)["buckets"] == []
    assert [incident.scope for incident in other.open_incidents()] == ["brand:hotel"]


def test_a_scope_quiet_for_longer_than_its_horizon_is_forgotten_with_a_tombstone():
    detector, _ = run([signal("once", 0, scopes=("topic:rare",))])
    verdict = detector.tick(T0 + 2 * 86400)
    assert (b"topic:rare", None) in verdict.entries and len(detector) == 0


def test_a_late_mention_opens_no_incident_that_would_be_over_already_but_one_still_live():
    detector, _ = run([signal("now", 24 * 60, scopes=("brand:golf",))])
    # An influencer's post of a day ago: its incident would have resolved at 2:15; nothing to act on now.
    verdict = detector.feed(signal("late-star", 0, influential=True))
    assert verdict.events == () and verdict.incident is None and not detector.open_incidents()
    # One of 23:00 is late too, but its incident lasts until 1:15 tomorrow: it opens.
    verdict = detector.feed(signal("recent-star", 23 * 60, influential=True))
    assert [(e.state, e.scope) for e in verdict.events] == [("opened", "brand:hotel")]


def test_a_detector_that_has_just_started_learns_for_a_baseline_before_a_spike_opens():
    _, verdicts = run(spike())  # no history: the first day only learns
    assert events(verdicts) == []
    _, verdicts = run([signal("first", -24 * 60 - 1), *spike()])
    assert [state for state, _, _ in events(verdicts)][:1] == ["opened"]
    _, verdicts = run([signal("star", 0, influential=True)])  # an influencer needs no baseline
    assert [state for state, _, _ in events(verdicts)] == ["opened"]


def test_switched_off_it_counts_nothing():
    detector = Detector(CrisisSettings(**{**SETTINGS.__dict__, "enabled": False}))
    assert events(feed_all(detector, [*calm_day(), *spike()])) == [] and len(detector) == 0


def test_the_baseline_leaves_out_the_last_incident():
    rule = ScopeRule("brand", 5, 10.0)
    settings = CrisisSettings(**{**SETTINGS.__dict__, "scopes": (rule,)})
    first = spike(count=20)
    second = [signal(f"again-{n}", 8 * 60 + n * 3, scopes=("brand:hotel",)) for n in range(6)]
    _, verdicts = run([signal("first", -24 * 60 - 1), *first, *second], settings)
    # Counting the first spike, the baseline would be 21 × 4 / 96 = 0.875, asking 9 mentions of the second; left out,
    # it is 1 × 4 / 90: the 6 are enough.
    assert [state for state, _, _ in events(verdicts)].count("opened") == 2
