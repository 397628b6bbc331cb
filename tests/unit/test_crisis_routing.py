"""Routing in an open incident: the override, explain, rule tests, and the records an incident produces."""

import json
from datetime import UTC, datetime
from pathlib import Path

from crisis_doubles import SETTINGS, T0, calm_day
from replay_doubles import KeywordClassifier

from router.classify.labels import Classification
from router.cli import main
from router.conversations import Conversation
from router.crisis.detector import Detector
from router.crisis.events import IncidentEvent
from router.crisis.records import INCIDENTS_TOPIC, SCOPES_TOPIC, detection_messages, incident_messages
from router.crisis.settings import Incident
from router.mentions import Mention
from router.pipeline import Record, Router, crisis_signal, route_batch
from router.rules import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = load_config(REPO / "config" / "router.yaml")
DANDELION = load_config(REPO / "config" / "examples" / "dandelion.yaml")
CLASSIFIER = KeywordClassifier()
COMPLAINT = Classification.forced("complaint", 0.9)
INCIDENT = Incident("inc-0123456789abcdef", "brand:chateau")


def mention(**fields) -> Mention:
    return Mention.model_validate({"id": "m-1", "source": "twitter", "text": "Cold room, rude staff",
                                   "created_at": "2027-01-16T15:00:00Z", "account": "ChateauLaurentides", **fields})


def test_a_mention_in_an_open_incident_carries_its_id_and_the_override_while_its_owner_keeps_it():
    plain = CONFIG.route(mention(), COMPLAINT, classifier=CLASSIFIER).decision
    crisis = CONFIG.route(mention(), COMPLAINT, classifier=CLASSIFIER, incident=INCIDENT).decision
    assert (plain.owner, plain.priority, plain.copies, plain.incident) == ("customer_service", "normal", (), None)
    assert crisis.owner == "customer_service" and crisis.incident == INCIDENT.id
    assert crisis.priority == "urgent" and crisis.copies == ("public_affairs",)
    assert crisis.queues == ("dept.customer_service", "dept.public_affairs", "social.hub")
    assert crisis.tags == ("incident", "crisis") and not crisis.crisis  # escalated by the incident, not the rules


def test_memoised_decisions_never_lend_one_incident_id_to_another_mention():
    other = Incident("inc-fedcba9876543210", "brand:bistro")
    ids = [CONFIG.route(mention(id=f"m-{n}"), COMPLAINT, classifier=CLASSIFIER, incident=incident).decision.incident
           for n, incident in enumerate([INCIDENT, other, None, INCIDENT])]
    assert ids == [INCIDENT.id, other.id, None, INCIDENT.id]


def test_a_reply_in_an_incident_keeps_its_threads_owner():
    reply = mention(id="m-2", thread_id="t-1")
    decision = CONFIG.route(reply, COMPLAINT, classifier=CLASSIFIER, thread=Conversation(owner="sales"),
                            incident=INCIDENT).decision
    assert (decision.owner, decision.thread_owner, decision.priority) == ("sales", True, "urgent")


def test_the_override_never_lowers_a_priority_the_rules_set():
    crisis = Classification.forced("pr_crisis", 0.9)
    decision = CONFIG.route(mention(), crisis, classifier=CLASSIFIER, incident=INCIDENT).decision
    assert decision.priority == "urgent" and decision.owner == "public_affairs" and decision.crisis
    assert decision.copies == ("legal",)  # public affairs owns it: no copy to itself


def test_explain_shows_the_override_and_what_crisis_detection_reads(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text(mention().model_dump_json(), encoding="utf-8")
    config = str(REPO / "config" / "router.yaml")
    assert main(["explain", "--config", config, "--label", "complaint", str(path)]) == 0
    plain = capsys.readouterr().out
    assert "incident:" not in plain
    assert plain.rstrip().endswith("crisis detection: counted; scopes brand:chateau, topic:staff")
    assert main(["explain", "--config", config, "--label", "complaint", "--incident", "inc-42", str(path)]) == 0
    shown = capsys.readouterr().out
    assert ("  incident: inc-42 (scope brand:chateau); crisis override: priority at least urgent; copies "
            "public_affairs; tags incident; escalate (delivered as a crisis)") in shown
    assert "  priority: urgent" in shown and "  owner: customer_service" in shown


def test_explain_refuses_an_incident_without_a_crisis_section(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    text = (REPO / "config" / "router.yaml").read_text()
    config.write_text(text[:text.index("crisis:")] + text[text.index("\nroute:") + 1:], encoding="utf-8")
    path = tmp_path / "m.json"
    path.write_text(mention().model_dump_json(), encoding="utf-8")
    assert main(["explain", "--config", str(config), "--label", "complaint", "--incident", "-", str(path)]) == 1
    assert "has no crisis section: no incident can be open" in capsys.readouterr().err


def test_a_rule_test_in_an_incident_needs_a_crisis_section(tmp_path, capsys):
    text = (REPO / "config" / "router.yaml").read_text()
    config = tmp_path / "c.yaml"
    config.write_text(text[:text.index("crisis:")] + text[text.index("\nroute:") + 1:], encoding="utf-8")
    (tmp_path / "c.tests.yaml").write_text(
        "tests:\n  - name: in an incident\n    incident: true\n    label: complaint\n"
        "    mention: {source: twitter, text: hi}\n    expect: {owner: customer_service}\n", encoding="utf-8")
    assert main(["check-config", "--test", str(config)]) == 1
    assert "incident: true needs a crisis section in the config" in capsys.readouterr().out


def event(state: str = "opened", unit: str | None = None, resolved_at: int | None = None) -> IncidentEvent:
    return IncidentEvent("inc-0123456789abcdef", state, "brand:chateau", "spike", T0, T0 + 3600, 12, 0.5, 10, 14,
                         ("#legionella", "fever"), ("m-1", "m-2"), T0 + 3000, resolved_at, unit)


def test_an_incident_goes_to_routing_incidents_and_as_a_record_of_its_own_to_public_affairs_legal_in_copy():
    messages = incident_messages(event(), CONFIG)
    assert [m.topic for m in messages] == [INCIDENTS_TOPIC, "dept.public_affairs", "dept.legal", "social.hub"]
    assert {m.key for m in messages} == {b"inc-0123456789abcdef"}
    document = json.loads(messages[0].value)
    assert list(document) == ["incident_id", "state", "scope", "trigger", "window", "count", "baseline", "threshold",
                              "mentions", "top_terms", "example_ids", "opened_at", "business_unit"]
    assert document["window"] == {"start": "2027-01-15T08:00:00+00:00", "end": "2027-01-15T09:00:00+00:00"}
    record = json.loads(messages[1].value)
    assert record["routing"] == {"owner": "public_affairs", "queues": ["dept.public_affairs", "dept.legal",
                                                                      "social.hub"],
                                 "priority": "urgent", "copies": ["legal"], "tags": ["incident", "crisis"],
                                 "config_hash": CONFIG.hash}
    assert {key: value for key, value in record.items() if key != "routing"} == document
    resolved = json.loads(incident_messages(event("resolved", resolved_at=T0 + 9000), CONFIG)[0].value)
    assert resolved["resolved_at"] == "2027-01-15T10:30:00+00:00" and "resolved_at" not in document


def test_a_units_incident_reaches_its_hub_and_the_corporate_hub():
    topics = [m.topic for m in incident_messages(event(unit="golf"), DANDELION)]
    assert topics == [INCIDENTS_TOPIC, "laurentides.public-affairs", "laurentides.legal", "laurentides.golf.hub",
                      "laurentides.corporate-hub"]


def records(signals_minutes: list[float], text: str) -> list[Record]:
    return [Record(json.dumps({"id": f"m-{n}", "source": "twitter", "text": text, "account": "ChateauLaurentides",
                               "created_at": f"2027-01-16T{10 + int(m) // 60:02d}:{int(m) % 60:02d}:00Z"}).encode())
            for n, m in enumerate(signals_minutes)]


def test_route_batch_feeds_the_detector_and_routes_the_mentions_of_its_incident_in_it():
    detector = Detector(SETTINGS)
    # A first mention a day before the records below: the detector has learnt for a whole baseline.
    detector.feed(calm_day(scopes=("brand:chateau",))[0]._replace(at=int(datetime(2027, 1, 15, 9, tzinfo=UTC).timestamp())))
    router = Router(CLASSIFIER, CONFIG)
    outcomes = route_batch(records([n * 2 for n in range(12)], "Worst stay, rude staff, dirty room"), router, None,
                           detector=detector)
    assert [o.decision.incident is not None for o in outcomes] == [False] * 4 + [True] * 8
    first = next(o for o in outcomes if o.detection.events)
    assert [e.state for e in first.detection.events] == ["opened"] and first.mention.id == "m-4"
    assert first.routing_document()["incident_id"].startswith("inc-")
    assert outcomes[-1].routing_document()["incident_id"] == first.decision.incident
    messages = detection_messages(first.detection, CONFIG)
    assert [m.topic for m in messages[:4]] == [INCIDENTS_TOPIC, "dept.public_affairs", "dept.legal", "social.hub"]
    changelog = {m.key: json.loads(m.value) for m in messages[4:] if m.topic == SCOPES_TOPIC}
    assert len(changelog) == len(messages) - 4 and set(changelog) == {b"brand:chateau", b"topic:worst", b"topic:staff",
                                                                       b"topic:dirty"}
    assert changelog[b"brand:chateau"]["incident"]["id"] == first.decision.incident


def test_signals_read_the_brand_unit_and_topics_in_the_configs_order():
    outcomes = route_batch(records([0], "#Boycott the Château: legionella in the hot tub! @ChateauLaurentides"),
                           Router(CLASSIFIER, CONFIG), None, detector=Detector(SETTINGS))
    assert outcomes[0].detection is not None
    signal = crisis_signal(outcomes[0].mention, outcomes[0].classification, outcomes[0].decision, CONFIG)
    # Hashtags first, then the longest words in the order written; accounts and links name no topic.
    assert signal.scopes == ("brand:chateau", "topic:#boycott", "topic:chateau", "topic:legionella")
    assert signal.terms == ("#boycott", "chateau", "legionella") and signal.counted and not signal.influential


def test_an_escalated_incident_mention_is_due_around_the_clock_like_a_crisis():
    friday_evening = mention(created_at="2026-11-20T20:00:00Z")  # Friday 15:00 in Quebec, two business hours left
    plain = CONFIG.route(friday_evening, COMPLAINT, classifier=CLASSIFIER).decision
    crisis = CONFIG.route(friday_evening, COMPLAINT, classifier=CLASSIFIER, incident=INCIDENT).decision
    assert plain.due_by.isoformat() == "2026-11-23T16:00:00+00:00"  # Monday 11:00 in Quebec
    assert crisis.due_by.isoformat() == "2026-11-21T00:00:00+00:00"  # four hours later, on a Friday night
