"""Crisis mode in the live worker: signals, the detector and its changelog, the incidents, the same as a replay's."""

import asyncio
import json
import signal
from pathlib import Path

import pytest

from router.classify.model import Classifier
from router.crisis.detector import detector_for
from router.kafka_io import Collector, caught_up, publish, read_topic
from router.mentions import decode_record
from router.pipeline import Record, Router
from router.replay.engine import replay
from router.rules import load_config
from router.settings import Settings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
CRISIS = SAMPLES / "crisis.jsonl"
CHATEAU = ("ChateauLaurentides", "104857600001", "182736")
SPIKE = ("2027-01-16T13:30:00", "2027-01-16T18:00:00")
# Mid-spike: after the incident opened (15:27), before its last mentions.
CUT = "2027-01-16T16:00:00"
LATER = "2027-01-17T11:00:00"  # after the sample's last mention


def _lines(path: Path = CRISIS) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _created(line: bytes) -> str:
    return decode_record(line)[0].created_at.strftime("%Y-%m-%dT%H:%M:%S")


def _split(lines: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The mentions before the cut, mid-spike, and those after."""
    return [line for line in lines if _created(line) < CUT], [line for line in lines if _created(line) >= CUT]


def _calm() -> list[bytes]:
    """The crisis sample without the Château's mentions of the spike's afternoon."""
    return [line for line in _lines() if not (decode_record(line)[0].account in CHATEAU
                                               and SPIKE[0] <= _created(line) <= SPIKE[1])]


def _tweet(id_: str, created_at: str, text: str, verified: bool = False) -> bytes:
    return json.dumps({"id": id_, "source": "twitter", "created_at": created_at + "Z", "lang": "en",
                       "account": "ChateauLaurentides", "text": text,
                       "author": {"id": f"a-{id_}", "handle": f"h{id_}", "followers": 18400 if verified else 40,
                                  "verified": verified}}).encode()


INFLUENCER = _tweet("it-press", LATER, "@ChateauLaurentides Journalist here: guests say your spa water was "
                    "contaminated. Comment?", verified=True)
FOLLOW_UP = _tweet("it-after", "2027-01-17T11:05:00", "@ChateauLaurentides what time does the spa open today?")


def _replayed(settings: Settings, lines: list[bytes]) -> tuple[dict[str, dict], dict[str, str | None]]:
    """What a replay of these records says: each incident's last event, and each mention's incident."""
    config = load_config(settings.config_path)
    router = Router(Classifier.load(settings.model_dir), config)
    outcomes = list(replay(map(Record, lines), router, detector=detector_for(config.crisis)))
    events = {event.incident_id: event.document() for o in outcomes if getattr(o, "detection", None)
              for event in o.detection.events}
    return events, {o.mention.id: o.decision.incident for o in outcomes if hasattr(o, "mention")}


async def _run(settings: Settings, lines: list[bytes]) -> list[dict]:
    """Publish in order, wait until routed and detected; the decisions."""
    decisions = await _routed(settings, lines)
    await _detected(settings)
    return decisions


async def _routed(settings: Settings, lines: list[bytes]) -> list[dict]:
    """Publish in order (one key: one input partition), wait for every decision; the decisions."""
    async with Collector(settings, {settings.decisions_topic}) as collector:
        await publish(settings, settings.input_topic, [(b"it-crisis", line) for line in lines])
        received = await collector.collect(len(lines), {settings.decisions_topic}, timeout=90)
    assert len(received) == len(lines)
    return [json.loads(r.value) for r in received]


async def _detected(settings: Settings) -> None:
    """Until the detector has committed every signal written so far."""
    assert await caught_up(settings, f"{settings.app_id}.crisis", settings.signals_topic, timeout=60)


async def _events(settings: Settings) -> list[dict]:
    """Every incident event the worker wrote, each incident's in order."""
    return [json.loads(value or b"") for value in await read_topic(settings, settings.incidents_topic)]


def _comparable(event: dict) -> dict:
    """An incident event without `mentions`: the mentions routed in it, which the live worker counts from the
    moment it reads the opening event, a replay from the trip."""
    return {key: value for key, value in event.items() if key != "mentions"}


def _last(events: list[dict]) -> dict[str, dict]:
    return {event["incident_id"]: _comparable(event) for event in events}


async def test_the_spike_opens_one_incident_and_resolves_it_as_replay_does(worker_settings, start_worker):
    s = worker_settings
    start_worker(s)
    queues = {"dept.public_affairs", "dept.legal"}
    async with Collector(s, queues) as collector:
        await _run(s, _lines())
        records = await collector.collect(10**6, queues, timeout=3)  # all there is: detection is done
    events = await _events(s)
    assert [event["state"] for event in events] == ["opened", "updated", "resolved"]
    assert len({event["incident_id"] for event in events}) == 1 and events[0]["scope"] == "brand:chateau"
    expected, _ = _replayed(s, _lines())
    assert _last(events) == {key: _comparable(event) for key, event in expected.items()}
    # The incident record, a record of its own in public affairs' queue with legal in copy, once per event.
    mine = [r for r in records if r.key == events[0]["incident_id"].encode()]
    assert sorted(r.topic for r in mine) == sorted(["dept.public_affairs", "dept.legal"] * 3)


async def test_a_calm_archive_opens_none_then_one_influencer_opens_one_that_routes_later_mentions(
        worker_settings, start_worker):
    s = worker_settings
    start_worker(s)
    await _run(s, _calm())
    assert await _events(s) == []

    await _run(s, [INFLUENCER])
    events = await _events(s)
    assert [(e["state"], e["trigger"], e["scope"]) for e in events] == [("opened", "influencer", "brand:chateau")]
    expected, _ = _replayed(s, [*_calm(), INFLUENCER])
    assert _last(events) == {key: _comparable(event) for key, event in expected.items()}
    # Read from the incidents topic by every worker: a later mention of the scope is routed in the incident,
    # the config's override applied (urgent, public affairs in copy) while its own owner keeps it.
    routing = (await _run(s, [FOLLOW_UP]))[0]["routing"]
    assert routing["incident_id"] == events[0]["incident_id"]
    assert routing["priority"] == "urgent" and "public_affairs" in routing["copies"] and "incident" in routing["tags"]


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_a_worker_restarted_mid_spike_loses_no_count_and_opens_no_second_incident(
        worker_settings, start_worker, tmp_path, guarantee):
    s = worker_settings.model_copy(update={"processing_guarantee": guarantee})
    lines = _lines()
    first, rest = _split(lines)
    worker = start_worker(s)
    await _run(s, first)
    opened = await _events(s)
    assert [e["state"] for e in opened] == ["opened"]

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    start_worker(s)  # a new process: its counts come back from the changelog, the open incident from the events
    decisions = await _run(s, rest)

    events = await _events(s)
    assert [e["state"] for e in events] == ["opened", "updated", "resolved"]
    restored = [json.loads(line) for line in (tmp_path / "worker-1.log").read_text().splitlines()
                if '"crisis.restored"' in line]
    assert [entry["partitions"] for entry in restored] == [[0]] and restored[0]["entries"] > 0
    expected, incidents = _replayed(s, lines)
    assert _last(events) == {key: _comparable(event) for key, event in expected.items()}  # every count made
    # The restarted worker knew the incident before it routed a mention: until the incident resolved, the rest is
    # routed as a replay routes it. (Published at once, the rest is routed before the worker reads that it resolved.)
    during = [d for d in decisions if d["created_at"] < events[-1]["resolved_at"]]
    assert {d["mention_id"]: d["routing"]["incident_id"] for d in during} == {
        d["mention_id"]: incidents[d["mention_id"]] for d in during}
    assert sum(d["routing"]["incident_id"] is not None for d in during) > 5


async def test_a_worker_killed_between_checkpoints_counts_each_signal_once(worker_settings, start_worker):
    # Checkpoints only when an incident event is due: what the detector counts after the opening is in no
    # changelog entry and no commit when the worker is killed.
    s = worker_settings.model_copy(update={"crisis_checkpoint_seconds": 3600.0})
    lines = _lines()
    first, rest = _split(lines)
    worker = start_worker(s)
    await _routed(s, first)
    assert [e["state"] for e in await _events_until(s, 1)] == ["opened"]
    await asyncio.sleep(3)  # the detector reads the rest of the first part's signals; the routing commits land
    worker.kill()
    worker.wait(timeout=30)

    start_worker(s)  # rebuilt from the checkpoint of the opening; the signals after it are read again
    await _routed(s, rest)
    events = await _events_until(s, 3)
    assert [e["state"] for e in events] == ["opened", "updated", "resolved"]
    expected, _ = _replayed(s, lines)
    assert _last(events) == {key: _comparable(event) for key, event in expected.items()}  # each count made once


async def _events_until(settings: Settings, count: int, timeout: float = 60) -> list[dict]:
    """The incident events, once there are `count` of them (or the timeout passed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(events := await _events(settings)) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
    return events
