"""Crisis mode in the worker, without Kafka: signals on the wire, the incidents open, routing in them."""

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
from crisis_doubles import SETTINGS, T0, calm_day, spike
from replay_doubles import KeywordClassifier

from router.crisis.detector import Detector
from router.crisis.live import Live, OpenIncidents, parse_signal, signal_record
from router.crisis.settings import Incident
from router.crisis.signals import Signal
from router.pipeline import Record
from router.rules import load_config
from router.rules.config import compile_text
from router.rules.yamltext import YamlText
from router.settings import Settings
from router.worker.routing import Shard

REPO = Path(__file__).resolve().parents[2]
CONFIG = load_config(REPO / "config" / "router.yaml")
INCIDENT = Incident("inc-0123456789abcdef", "brand:chateau")
WRITTEN = int(datetime(2027, 1, 16, 15, tzinfo=UTC).timestamp())  # when the tweets below were written


def _event(incident_id: str, state: str, opened_at: str, scope: str = "brand:chateau") -> bytes:
    return orjson.dumps({"incident_id": incident_id, "state": state, "scope": scope, "opened_at": opened_at})


def test_signals_cross_the_wire_whole_and_the_detector_says_the_same_of_them():
    signals = [*calm_day(), *spike()]
    direct, wired = Detector(SETTINGS), Detector(SETTINGS)
    expected = [direct.feed(signal).events for signal in signals]
    received = [parse_signal(signal_record(signal)[1]) for signal in signals]
    assert received == signals
    assert [wired.feed(signal).events for signal in received if isinstance(signal, Signal)] == expected
    assert any(expected) and signal_record(signals[0])[0] == b"brand:hotel"  # keyed by its first scope


def test_a_bad_signal_record_is_refused_with_the_reason():
    assert parse_signal(None) == parse_signal(b"") != ""
    assert "at" in str(parse_signal(b'{"id": "m", "at": "soon", "counted": true, "influential": false, '
                                    b'"scopes": [], "terms": []}'))
    assert "extra" in str(parse_signal(b'{"id": "m", "at": 1, "counted": true, "influential": false, "scopes": [], '
                                       b'"terms": [], "pickle": 1}')).lower()
    many = Signal("m", T0, True, False, ("brand:hotel",), tuple(f"#tag{n}" for n in range(40)), None)
    assert parse_signal(signal_record(many)[1]) == many._replace(terms=many.terms[:16])  # bounded as stored


def test_open_incidents_follow_the_events_whatever_the_order_of_two_incidents_of_a_scope():
    incidents = OpenIncidents()
    assert incidents.apply(_event("inc-b", "opened", "2027-01-16T18:00:00+00:00")) is None
    assert incidents.apply(_event("inc-a", "opened", "2027-01-16T15:00:00+00:00")) is None  # read after, opened before
    assert incidents.current() == {"brand:chateau": Incident("inc-b", "brand:chateau")}
    incidents.apply(_event("inc-b", "updated", "2027-01-16T18:00:00+00:00"))
    incidents.apply(_event("inc-b", "resolved", "2027-01-16T18:00:00+00:00"))
    assert incidents.current() == {"brand:chateau": Incident("inc-a", "brand:chateau")}
    incidents.apply(_event("inc-a", "resolved", "2027-01-16T15:00:00+00:00"))
    assert incidents.current() == {}
    assert "refused" in str(incidents.apply(b"not json")) and "refused" in str(incidents.apply(b'{"state": 1}'))
    assert "refused" in str(incidents.apply(_event("inc-c", "reopened", "2027-01-16T15:00:00+00:00")))


def test_routing_sends_counted_mentions_and_those_of_an_incident_then_the_batchs_latest_time():
    live = Live({"brand:chateau": INCIDENT})
    counted = Signal("m-1", T0, True, False, ("brand:bistro",), (), None)
    member = Signal("m-2", T0 + 60, False, False, ("topic:spa", "brand:chateau"), (), None)
    other = Signal("m-3", T0 + 120, False, False, ("brand:bistro",), (), None)
    assert [live.feed(s).incident for s in (counted, member, other)] == [None, INCIDENT, None]
    assert live.signals() == [counted, member, Signal("m-3", T0 + 120, False, False, (), (), None)]
    alone = Live({})
    alone.feed(counted)
    assert alone.signals() == [counted]  # the latest time is the counted mention's own


def _tweet(id_: str, text: str, account: str = "ChateauLaurentides") -> Record:
    return Record(json.dumps({"id": id_, "source": "twitter", "text": text, "created_at": "2027-01-16T15:00:00Z",
                              "account": account}).encode(), id_.encode())


def test_a_worker_shard_routes_in_the_open_incidents_and_sends_their_signals_in_the_same_batch():
    settings = Settings()
    shard = Shard(settings, KeywordClassifier())
    records = [_tweet("m-1", "Cold room and rude staff"), _tweet("m-2", "Do you have a quote for a wedding?"),
               _tweet("m-3", "A quote for a wedding?", account="BistroLaurentides")]
    routed = shard.route(records, CONFIG, {"brand:chateau": INCIDENT})
    decisions = {json.loads(v)["mention_id"]: json.loads(v)["routing"] for t, _, v in routed.messages
                 if t == settings.decisions_topic}
    assert [decisions[m]["incident_id"] for m in ("m-1", "m-2", "m-3")] == [INCIDENT.id, INCIDENT.id, None]
    signals = [(key, parse_signal(value)) for topic, key, value in routed.messages if topic == settings.signals_topic]
    assert [(key, s.mention_id, s.counted) for key, s in signals if isinstance(s, Signal)] == [
        (b"brand:chateau", "m-1", True), (b"brand:chateau", "m-2", False)]  # m-3, of the same time, moves no clock
    quiet = shard.route(records[1:], CONFIG, {})
    assert [m for m in quiet.messages if m[0] == settings.signals_topic] == [
        (settings.signals_topic, None, signal_record(Signal("m-2", WRITTEN, False, False, (), (), None))[1])]



def test_a_batch_writes_each_scope_once_as_a_changelog_of_every_change_would_leave_it():
    signals = [*calm_day(scopes=("brand:hotel", "topic:spa")), *spike(scopes=("brand:hotel", "topic:spa"))]
    every, batched = Detector(SETTINGS), Detector(SETTINGS, changelog=False)
    compacted: dict[bytes, bytes | None] = {}
    for signal in signals:
        compacted.update(dict(every.feed(signal).entries))
    touched: dict[str, None] = {}
    for signal in signals:
        touched.update(dict.fromkeys(batched.feed(signal).touched))
    assert dict(batched.entries_of(touched)) == compacted and set(touched) == {"brand:hotel", "topic:spa"}
    assert any(json.loads(value or b"{}").get("incident") for value in compacted.values())


def test_a_mention_that_does_not_count_skips_its_words_unless_one_has_an_open_incident():
    detector = Detector(SETTINGS)
    assert not detector.words_of_uncounted  # nothing open: its words would say nothing
    for signal in [*calm_day(scopes=("topic:spa",)), *spike(scopes=("topic:spa",))]:
        detector.feed(signal)
    assert detector.words_of_uncounted and Live({"topic:spa": INCIDENT}).words_of_uncounted
    assert not Live({"brand:chateau": INCIDENT}).words_of_uncounted


def test_with_detection_switched_off_no_incident_applies_and_no_signal_is_sent():
    text = (REPO / "config" / "router.yaml").read_bytes().replace(b"\ncrisis:\n", b"\ncrisis:\n  enabled: false\n")
    switched_off = compile_text(YamlText(REPO / "config" / "router.yaml", text))
    assert switched_off.crisis is not None and not switched_off.crisis.enabled
    settings = Settings()
    routed = Shard(settings, KeywordClassifier()).route([_tweet("m-1", "Cold room and rude staff")], switched_off,
                                                        {"brand:chateau": INCIDENT})
    assert [json.loads(v)["routing"]["incident_id"] for t, _, v in routed.messages if t == settings.decisions_topic] \
        == [None]  # an incident read before it was switched off never resolves: it must not apply for ever
    assert not [m for m in routed.messages if m[0] == settings.signals_topic]
