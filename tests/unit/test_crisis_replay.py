"""Crisis mode in replay, with the shipped model and the default config: the sample spike, calm and influencer
archives, ids that do not change, a restart from the changelog mid-spike, reports and diffs."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from router.classify.model import Classifier
from router.cli import main
from router.conversations import Conversations
from router.crisis.detector import Detector, detector_for
from router.mentions import decode_record
from router.pipeline import Router, decision_document
from router.replay.archive import read_archives
from router.replay.engine import replay
from router.rules import load_config

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "deploy" / "samples"
CRISIS = SAMPLES / "crisis.jsonl"
CONFIG = REPO / "config" / "router.yaml"
ORDINARY = ["mentions.jsonl", "twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl", "mixed.csv", "summer.jsonl.gz"]
SPIKE = (datetime.fromisoformat("2027-01-16T13:30:00+00:00"), datetime.fromisoformat("2027-01-16T18:00:00+00:00"))
INFLUENCER = {"id": "tw-9001", "source": "twitter", "created_at": "2027-01-16T15:00:00Z", "lang": "en",
              "account": "ChateauLaurentides",
              "text": "@ChateauLaurentides Journalist here: guests say your spa water was contaminated. Comment?",
              "author": {"id": "a-press", "handle": "press_ines", "followers": 18400, "verified": True}}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Classifier.load(), load_config(CONFIG))


def summary(capsys, *archives: Path, extra: tuple[str, ...] = ()) -> dict:
    assert main(["replay", *map(str, archives), "--config", str(CONFIG), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def calm_archive(tmp_path: Path, *extra: dict) -> Path:
    """The crisis sample without its spike: the Château's mentions of the afternoon left out, `extra` added in order."""
    lines = [line for line in CRISIS.read_bytes().splitlines() if not _in_spike(line)]
    lines += [json.dumps(item).encode() for item in extra]
    lines.sort(key=lambda line: decode_record(line)[0].created_at)
    path = tmp_path / "calm.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _in_spike(line: bytes) -> bool:
    mention = decode_record(line)[0]
    return mention.account in ("ChateauLaurentides", "104857600001", "182736") and SPIKE[0] <= mention.created_at <= \
        SPIKE[1]


def test_the_crisis_sample_opens_exactly_one_incident_and_resolves_it(capsys, tmp_path):
    data = summary(capsys, CRISIS, extra=("--out", str(tmp_path)))
    assert len(data["incidents"]) == 1
    incident = data["incidents"][0]
    assert {"incident_id", "scope", "opened_at", "resolved_at", "count", "baseline"} <= set(incident)
    assert (incident["scope"], incident["trigger"]) == ("brand:chateau", "spike")
    assert incident["opened_at"] < incident["resolved_at"] and incident["count"] >= 10 > 4 * incident["baseline"]
    events = [json.loads(line) for line in (tmp_path / "incidents.jsonl").read_text().splitlines()]
    # The config's careful stage reads three of the sample's unsure illness reports as `other` (model card,
    # "Careful stage"): the incident opens at 15:41 rather than 15:27 and does not grow by half, so it is not
    # updated; with the fast stage alone it is.
    assert [event["state"] for event in events] == ["opened", "resolved"]
    # Each event is a record in public affairs' queue, with legal in copy, and in the hub.
    assert data["incident_records_by_queue"] == {"dept.legal": 2, "dept.public_affairs": 2, "social.hub": 2}
    decisions = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    members = [d for d in decisions if d["routing"]["incident_id"] == incident["incident_id"]]
    assert len(members) == incident["mentions"] > 20
    assert all(incident["opened_at"] <= d["created_at"] < incident["resolved_at"] for d in members)
    assert all(d["routing"]["priority"] == "urgent" and "public_affairs" in d["routing"]["copies"] + [
        d["routing"]["owner"]] for d in members)
    assert {d["routing"]["owner"] for d in members} >= {"customer_service", "public_affairs"}


def test_a_calm_archive_opens_no_incident(capsys, tmp_path):
    data = summary(capsys, calm_archive(tmp_path))
    assert data["incidents"] == [] and data["incident_records_by_queue"] == {} and data["routed"] > 30


def test_one_influencer_mention_opens_an_incident_alone(capsys, tmp_path):
    data = summary(capsys, calm_archive(tmp_path, INFLUENCER))
    assert [(row["trigger"], row["scope"], row["opened_at"]) for row in data["incidents"]] == [
        ("influencer", "brand:chateau", "2027-01-16T15:00:00+00:00")]
    assert data["incidents"][0]["resolved_at"] is not None


def test_ordinary_traffic_trips_no_spike_only_the_verified_authors_negative_posts_open_incidents(router):
    opened = []
    for archive in ORDINARY:
        outcomes = list(replay(read_archives([SAMPLES / archive]), router, detector=detector_for(router.config.crisis)))
        by_id = {o.mention.id: o for o in outcomes if hasattr(o, "mention")}
        for outcome in outcomes:
            for event in outcome.detection.events if getattr(outcome, "detection", None) else ():
                assert event.trigger == "influencer"  # no spike: a few complaints an hour at most
                if event.state == "opened":
                    opened.append(by_id[event.example_ids[-1]])
    # The food-poisoning and legionella posts of verified accounts, each the mention that opened its incident.
    assert len(opened) == 4 and all(o.mention.author.verified for o in opened)
    assert all(o.classification.label in ("complaint", "pr_crisis") or o.decision.crisis for o in opened)


def test_the_same_archive_and_config_give_the_same_incident_ids_in_every_replay(capsys):
    archives = [*(SAMPLES / name for name in ORDINARY), CRISIS]
    first = summary(capsys, *archives)["incidents"]
    again = summary(capsys, *archives)["incidents"]
    parallel = summary(capsys, *archives, extra=("--jobs", "2", "--batch-size", "5"))["incidents"]
    assert first == again == parallel and len(first) >= 2


def test_restored_from_the_changelog_mid_spike_routing_goes_on_as_if_the_worker_never_stopped(router):
    records = list(read_archives([CRISIS]))
    whole_detector = detector_for(router.config.crisis)
    whole = list(replay(records, router, 7, Conversations(), whole_detector))
    spike_at = next(n for n, outcome in enumerate(whole) if outcome.detection and outcome.detection.events)
    for cut in (spike_at - 3, spike_at + 1, spike_at + 12):
        threads = Conversations()  # the threads' own changelog carries them over a restart; not under test here
        first = list(replay(records[:cut], router, 7, threads, detector := detector_for(router.config.crisis)))
        changelog = {}
        for outcome in first:
            changelog.update(dict(outcome.detection.entries))
        restarted = Detector(router.config.crisis)
        assert all(restarted.restore(key, value) is None for key, value in changelog.items())
        assert sorted(restarted.entries()) == sorted(detector.entries())
        rest = list(replay(records[cut:], router, 7, threads, restarted))
        assert [json.dumps(decision_document(o)) for o in first + rest] == [
            json.dumps(decision_document(o)) for o in whole]
        assert [e for o in first + rest for e in o.detection.events] == [e for o in whole for e in o.detection.events]


def test_the_html_report_draws_the_incident_on_the_timeline(capsys, tmp_path):
    data = summary(capsys, CRISIS, extra=("--out", str(tmp_path)))
    html = (tmp_path / "report.html").read_text()
    incident = data["incidents"][0]["incident_id"]
    assert f"<title>incident {incident} (brand:chateau)</title>" in html  # shaded on the days
    assert "Incidents: opened to resolved (UTC)" in html and "brand:chateau (spike): 2027-01-16 15:" in html
    markdown = (tmp_path / "report.md").read_text()
    assert f"| {incident} | brand:chateau | spike | 2027-01-16T15:" in markdown


def test_replay_against_counts_incident_differences(capsys, tmp_path):
    text = CONFIG.read_text()
    quiet = tmp_path / "quiet.yaml"  # the same rules without crisis mode
    quiet.write_text(text[:text.index("crisis:")] + text[text.index("\nroute:") + 1:])
    assert main(["replay", str(CRISIS), "--config", str(CONFIG), "--against", str(quiet), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["incidents"]["before"] == 1 and diff["incidents"]["after"] == 0
    assert [row["scope"] for row in diff["incidents"]["only_before"]] == ["brand:chateau"]
    assert diff["by_dimension"]["incident"] == diff["before"]["incidents"][0]["mentions"]
    assert diff["changed"] >= diff["by_dimension"]["incident"]
    assert main(["replay", str(CRISIS), "--config", str(CONFIG), "--against", str(quiet), "--fail-on-change", "5"]) == 1
    assert "incident" in capsys.readouterr().err
