"""Delivery guarantees under faults, black box: real brokers, real worker processes, kill -9, outages, poison."""

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import os
import random
import signal
import subprocess
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from router.errors import InvalidMention
from router.kafka_io import Collector, Received, publish
from router.mentions import decode_record
from router.replay.archive import read_archive
from router.rules import load_config
from router.settings import REPO_ROOT, Settings

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SAMPLES = REPO_ROOT / "deploy" / "samples"
# Generous: a restarted worker may wait out the dead member's session before it is assigned partitions.
SETTLE_SECONDS = 300
# Nothing new on any output for this long, with mentions still missing: the worker is not going to deliver them.
IDLE_SECONDS = 90
SIGTERM_EXIT_SECONDS = 30
T = TypeVar("T")


# --- accounting -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    published: int
    decided: int
    dead_lettered: int
    lost: int
    duplicates: int
    missing_queue_copies: int

    def line(self, label: str) -> str:
        return (f"faults {label}: published={self.published} decided={self.decided} "
                f"dead_lettered={self.dead_lettered} lost={self.lost} duplicates={self.duplicates} "
                f"missing_queue_copies={self.missing_queue_copies}")


@dataclass
class Tally:
    """What came out of the worker, by mention id; fed record by record, so that 20,000 mentions stay small."""

    queues: frozenset[str]
    decisions_topic: str
    dead_letter_topic: str
    input_topic: str
    decisions: Counter = field(default_factory=Counter)
    routed_to: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    copies: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dead_letters: list[dict] = field(default_factory=list)
    dead_ids: set[str] = field(default_factory=set)
    inputs: dict[str, Received] = field(default_factory=dict)  # by sha256, when the input topic is watched

    @classmethod
    def for_settings(cls, settings: Settings) -> "Tally":
        return cls(frozenset(load_config(settings.config_path).topics()), settings.decisions_topic,
                   settings.dead_letter_topic, settings.input_topic)

    def add(self, records: Iterable[Received]) -> None:
        for record in records:
            if record.topic == self.decisions_topic:
                decision = json.loads(record.value)
                self.decisions[decision["mention_id"]] += 1
                self.routed_to[decision["mention_id"]].update(decision["routing"]["queues"])
            elif record.topic in self.queues:
                delivered = json.loads(record.value)
                if "id" in delivered:  # a mention; the queues also receive the records of incidents
                    self.copies[delivered["id"]].add(record.topic)
            elif record.topic == self.dead_letter_topic:
                letter = json.loads(record.value)
                self.dead_letters.append(letter)
                if (mention_id := _original_id(letter)) is not None:
                    self.dead_ids.add(mention_id)
            elif record.topic == self.input_topic:
                self.inputs[hashlib.sha256(record.value).hexdigest()] = record

    def figures(self, published: Collection[str]) -> Figures:
        decided = [mention_id for mention_id in published if mention_id in self.decisions]
        return Figures(
            published=len(published),
            decided=len(decided),
            dead_lettered=len(self.dead_letters),
            lost=sum(mention_id not in self.decisions and mention_id not in self.dead_ids for mention_id in published),
            duplicates=sum(self.decisions[mention_id] - 1 for mention_id in decided),
            missing_queue_copies=sum(len(self.routed_to[mention_id] - self.copies.get(mention_id, set()))
                                     for mention_id in decided),
        )


def account(label: str, published: Collection[str], tally: Tally, **extra: object) -> Figures:
    """Print and return the figures of one scenario: published, decided, lost, duplicates, missing queue copies."""
    figures = tally.figures(published)
    print(" ".join([figures.line(label), *(f"{name}={value}" for name, value in extra.items())]), flush=True)
    return figures


def _original_id(letter: dict) -> str | None:
    """The mention id inside a dead letter's original, when its kept prefix is a whole JSON object with one."""
    try:
        document = json.loads(base64.b64decode(letter.get("original") or ""))
    except (ValueError, binascii.Error):
        return None
    return document.get("id") if isinstance(document, dict) else None


# --- watching the outputs while faults happen -------------------------------------------------------------------


class Watch:
    """A Collector on every output topic feeding a Tally, read all along while a test injects faults."""

    def __init__(self, label: str, settings: Settings, *, read_committed: bool = False, with_input: bool = False):
        self.label, self.started = label, time.monotonic()
        self.last_arrival = self.started
        self.tally = Tally.for_settings(settings)
        topics = set(self.tally.queues) | {settings.decisions_topic, settings.dead_letter_topic}
        if with_input:
            topics.add(settings.input_topic)
        isolation = "read_committed" if read_committed else "read_uncommitted"
        self._collector = Collector(settings, topics, isolation_level=isolation)

    async def __aenter__(self) -> "Watch":
        await self._collector.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._collector.__aexit__(*exc_info)

    async def poll(self, seconds: float = 0.5) -> None:
        # No topic counts towards `until`, so collect returns whatever arrived within `seconds`.
        received = await self._collector.collect(1, (), timeout=seconds)
        if received:
            self.last_arrival = time.monotonic()
        self.tally.add(received)

    async def meanwhile(self, blocking: Callable[..., T], *args: object) -> T:
        """A blocking call (start a worker, stop a broker) in a thread, while the tally keeps up with the outputs."""
        call = asyncio.ensure_future(asyncio.to_thread(blocking, *args))
        while not call.done():
            await self.poll(0.2)
        return call.result()

    async def until(self, decided: int, before: str, worker: subprocess.Popen, timeout: float = SETTLE_SECONDS) -> None:
        """Until `decided` mentions are decided; fails if the worker exits first."""
        deadline = time.monotonic() + timeout
        while self.decided() < decided:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode} before {decided} decisions ({before})")
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {decided} decisions after {timeout} s ({before})")
            await self.poll()

    async def settle(self, published: Collection[str], worker: subprocess.Popen, *, dead_letters: int = 0,
                     timeout: float = SETTLE_SECONDS, quiet: float = 3.0) -> None:
        """Until every published mention is decided or dead-lettered with its queue copies, then `quiet` more
        seconds for late duplicates. Returns early, for the figures to say what went missing, when the worker
        exited or stopped producing, and at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            figures = self.tally.figures(published)
            if not figures.lost and not figures.missing_queue_copies and figures.dead_lettered >= dead_letters:
                break
            if worker.poll() is not None:
                self.note(f"the worker exited with {worker.returncode}")
                break
            if time.monotonic() - self.last_arrival > IDLE_SECONDS:
                self.note(f"nothing new for {IDLE_SECONDS} s")
                break
            await self.poll()
        else:
            self.note(f"still incomplete after {timeout} s")
        await self.poll(quiet)

    def decided(self) -> int:
        return len(self.tally.decisions)

    def note(self, event: str) -> None:
        """One line of the scenario's timeline, so that a slow or failed run says where its time went."""
        print(f"faults {self.label}: t={time.monotonic() - self.started:.1f}s decided={self.decided()} {event}",
              flush=True)

    def account(self, published: Collection[str], **extra: object) -> Figures:
        return account(self.label, published, self.tally, **extra, seconds=round(time.monotonic() - self.started))


# --- inputs and faults ------------------------------------------------------------------------------------------


@functools.cache
def _templates() -> tuple[dict, ...]:
    """The shipped samples' records that hold exactly one valid mention, as canonical documents."""
    paths = sorted(SAMPLES.glob("*.jsonl")) + sorted(SAMPLES.glob("*.csv")) + sorted(SAMPLES.glob("*.gz"))
    templates = []
    for path in paths:
        for record in read_archive(path):
            try:
                mentions = decode_record(record.value)
            except InvalidMention:
                continue
            if len(mentions) == 1:  # a multi-mention webhook would make one record count as several
                templates.append(mentions[0].model_dump(mode="json", exclude_none=True))
    return tuple(templates)


def realistic_mentions(count: int, run: str) -> dict[str, bytes]:
    """`count` mentions cycled over the samples, each with an id of its own: id -> record bytes."""
    templates = _templates()
    documents = ({**templates[n % len(templates)], "id": f"{run}-{n}"} for n in range(count))
    return {document["id"]: json.dumps(document, ensure_ascii=False).encode() for document in documents}


def publishing(settings: Settings, values: Iterable[bytes], rate: float | None = None) -> asyncio.Task:
    """Publish in the background, so that faults strike while records are still arriving."""
    return asyncio.create_task(publish(settings, settings.input_topic, ((None, value) for value in values), rate))


def _until(stop: asyncio.Event, values: Iterable[bytes]) -> Iterator[bytes]:
    """`values` until `stop` is set."""
    for value in values:
        if stop.is_set():
            return
        yield value


def with_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


def kill_hard(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


async def sigterm(watch: Watch, process: subprocess.Popen, whole_group: bool = False) -> tuple[int | None, float]:
    """The exit code (None if still running after SIGTERM_EXIT_SECONDS) and how long the worker took to exit.

    `whole_group` sends it to the worker's routing processes too, as systemd (KillMode=control-group) does.
    """
    started = time.monotonic()
    if whole_group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        code = await watch.meanwhile(process.wait, SIGTERM_EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        code = None
    return code, time.monotonic() - started


# --- scenarios --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_kill_9_three_times(guarantee, worker_settings, start_worker):
    settings = with_settings(worker_settings, processing_guarantee=guarantee, instance_id=f"{worker_settings.app_id}-a")
    mentions = realistic_mentions(20_000, settings.app_id)
    exactly_once = guarantee == "exactly_once"
    # Seeded, so that a failure can be replayed with the same kills. Mentions arrive for 40 s, longer than
    # three kills and restarts take, so that every kill strikes mid-stream: after some progress, then after
    # a random pause, anywhere in a batch: while routing, between sends, between the acknowledgements and
    # the commit, while the previous commit is in flight.
    rng = random.Random(f"kill-9 {guarantee}")
    kills = sorted(rng.sample(range(500, 5_000), 3))
    async with Watch(f"kill-9 {guarantee}", settings, read_committed=exactly_once) as watch:
        process = await watch.meanwhile(start_worker, settings)
        feed = publishing(settings, mentions.values(), rate=500)
        for at in kills:
            await watch.until(max(at, watch.decided() + 500), "a kill -9", process)
            await watch.poll(rng.uniform(0.0, 0.3))
            assert not feed.done(), "every mention was published before this kill: it would prove nothing"
            kill_hard(process)
            watch.note("kill -9")
            process = await watch.meanwhile(start_worker, settings)
            watch.note("restarted and ready")
        await feed
        await watch.settle(mentions, process)
        figures = watch.account(mentions)
    assert figures.lost == 0
    assert figures.missing_queue_copies == 0
    if exactly_once:
        assert figures.duplicates == 0


async def test_broker_down_for_20_seconds(private_broker, worker_settings, start_worker):
    # The worker must retry through the outage, not give up on the batch it holds.
    settings = with_settings(worker_settings, kafka_bootstrap_servers=private_broker.bootstrap_servers,
                             delivery_timeout_seconds=180.0, instance_id=f"{worker_settings.app_id}-a")
    mentions = realistic_mentions(10_000, settings.app_id)
    values = list(mentions.values())
    async with Watch("broker-down-20s at_least_once", settings) as watch:
        process = await watch.meanwhile(start_worker, settings)
        await publishing(settings, values[:8_000])  # a backlog, so that the broker goes while the worker is busy
        await watch.until(1_500, "the broker stops", process)
        await watch.meanwhile(private_broker.stop)
        watch.note("broker stopped")
        await watch.poll(20)
        await watch.meanwhile(private_broker.start)
        watch.note("broker started again")
        await publishing(settings, values[8_000:])  # and mentions that arrive after the outage
        await watch.settle(mentions, process)
        figures = watch.account(mentions, worker_exit=process.poll())
    assert figures.lost == 0
    assert figures.missing_queue_copies == 0


async def test_second_worker_joins_and_first_leaves(worker_settings, start_worker, free_port):
    first = with_settings(worker_settings, instance_id=f"{worker_settings.app_id}-a")
    second = with_settings(first, instance_id=f"{worker_settings.app_id}-b", web_port=free_port())
    mentions = realistic_mentions(15_000, first.app_id)
    values = list(mentions.values())
    async with Watch("join-and-leave at_least_once", first) as watch:
        leaving = await watch.meanwhile(start_worker, first)
        await publishing(first, values[:3_000])
        await watch.until(1_000, "a second worker joins", leaving)
        # Mentions keep arriving, paced, while the second worker joins and the first leaves, however long
        # either takes; the rest comes at once, for the second worker alone.
        left = asyncio.Event()
        trickle = publishing(first, _until(left, values[3_000:]), rate=250)
        staying = await watch.meanwhile(start_worker, second)
        watch.note("second worker ready")
        await watch.until(min(watch.decided() + 1_000, len(mentions)), "the first worker leaves", staying)
        code, seconds = await sigterm(watch, leaving)
        watch.note(f"first worker exited with {code} {seconds:.1f} s after SIGTERM")
        await watch.poll(2.0)
        left.set()
        trickled = await trickle
        await publishing(first, values[3_000 + trickled:])
        await watch.settle(mentions, staying)
        figures = watch.account(mentions, first_exit=code)
    assert figures.lost == 0
    assert figures.missing_queue_copies == 0


@pytest.mark.parametrize("whole_group", [False, True])
async def test_sigterm_and_restart(worker_settings, start_worker, whole_group):
    settings = with_settings(worker_settings, instance_id=f"{worker_settings.app_id}-a")
    mentions = realistic_mentions(6_000, settings.app_id)
    async with Watch("sigterm-restart at_least_once", settings) as watch:
        process = await watch.meanwhile(start_worker, settings)
        feed = publishing(settings, mentions.values(), rate=400)  # still arriving while it is down
        await watch.until(2_000, "SIGTERM", process)
        code, seconds = await sigterm(watch, process, whole_group)
        watch.note(f"exited with {code} {seconds:.1f} s after SIGTERM")
        process = await watch.meanwhile(start_worker, settings)
        watch.note("restarted and ready")
        await feed
        await watch.settle(mentions, process)
        figures = watch.account(mentions, exit_code=code, exit_seconds=round(seconds, 1))
    assert code == 0, f"exit code {code} (None: still running {SIGTERM_EXIT_SECONDS} s after SIGTERM)"
    assert figures.lost == 0
    assert figures.missing_queue_copies == 0


async def test_a_routing_process_killed_stops_the_worker_without_loss(worker_settings, start_worker):
    settings = with_settings(worker_settings, routing_processes=2, instance_id=f"{worker_settings.app_id}-a")
    mentions = realistic_mentions(10_000, settings.app_id)
    async with Watch("routing-process-killed at_least_once", settings) as watch:
        process = await watch.meanwhile(start_worker, settings)
        routers = routing_processes(process.pid)
        assert len(routers) == 2, f"expected two routing processes, found {routers}"
        feed = publishing(settings, mentions.values(), rate=500)  # still arriving at the kill
        await watch.until(2_000, "a routing process is killed", process)
        assert not feed.done(), "every mention was published before the kill: it would prove nothing"
        kill_pid(routers[0])
        watch.note("routing process killed")
        code = await watch.meanwhile(process.wait, SIGTERM_EXIT_SECONDS)
        watch.note(f"worker exited with {code}")
        await watch.meanwhile(_wait_gone, routers)
        process = await watch.meanwhile(start_worker, settings)
        await feed
        await watch.settle(mentions, process)
        figures = watch.account(mentions, worker_exit=code)
    assert code == 1
    assert figures.lost == 0
    assert figures.missing_queue_copies == 0


def test_an_idle_routing_process_that_dies_stops_the_worker(worker_settings, start_worker):
    settings = with_settings(worker_settings, routing_processes=2, instance_id=f"{worker_settings.app_id}-a")
    process = start_worker(settings)
    kill_pid(routing_processes(process.pid)[1])
    assert process.wait(SIGTERM_EXIT_SECONDS) == 1, "a worker that cannot route must stop, not wait for input"


async def test_a_worker_killed_hard_leaves_no_routing_process(worker_settings, start_worker):
    settings = with_settings(worker_settings, routing_processes=2, instance_id=f"{worker_settings.app_id}-a")
    process = start_worker(settings)
    routers = routing_processes(process.pid)
    assert len(routers) == 2, f"expected two routing processes, found {routers}"
    kill_hard(process)
    _wait_gone(routers)


def routing_processes(pid: int) -> list[int]:
    """The worker's routing processes: the children it spawned with multiprocessing."""
    children = [int(child) for child in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    return [child for child in children if b"spawn_main" in open(f"/proc/{child}/cmdline", "rb").read()]


def kill_pid(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(os.path.exists(f"/proc/{pid}") and not _is_zombie(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes still running {timeout} s later: {pids}"
        time.sleep(0.1)


def _is_zombie(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


ROUTING_FAULT = "fault-injection-3b7e"


def poison_records(run: str) -> list[tuple[bytes, str]]:
    """Records the worker must dead-letter, each with the start of the reason it must give."""
    mention = dict(_templates()[0])

    def sized(tag: str, size: int) -> bytes:
        document = {**mention, "id": f"{run}-poison-{tag}", "text": ""}
        padding = size - len(json.dumps(document).encode())
        return json.dumps({**document, "text": "x" * padding}).encode()

    return [
        # Just under what the worker may produce: its dead letter must still fit in one record.
        (sized("near-limit", 990_000), "record too large"),
        (sized("large", 800_000), "record too large"),
        (json.dumps({**mention, "id": f"{run}-poison-routing", "text": f"help {ROUTING_FAULT}"}).encode(),
         "routing failed"),
        (b'{"id": "' + run.encode() + b'-poison-json", "text": ', "invalid JSON"),
    ]


async def test_poison_records_are_dead_lettered_and_the_rest_routed(worker_settings, start_worker):
    settings = with_settings(worker_settings, fail_routing_on=ROUTING_FAULT, instance_id=f"{worker_settings.app_id}-a")
    mentions = realistic_mentions(5_000, settings.app_id)
    poison = poison_records(settings.app_id)
    values = list(mentions.values())
    rng = random.Random("poison")
    for raw, _ in poison:  # scattered among the valid ones, so that each lands in a batch of good mentions
        values.insert(rng.randrange(len(values)), raw)
    async with Watch("poison at_least_once", settings, with_input=True) as watch:
        process = await watch.meanwhile(start_worker, settings)
        await publishing(settings, values)
        await watch.settle(mentions, process, dead_letters=len(poison))
        figures = watch.account(mentions)
    assert figures.decided == len(mentions)
    assert figures.missing_queue_copies == 0
    for raw, reason in poison:
        _assert_dead_lettered(watch.tally, raw, reason)
    assert figures.dead_lettered == len(poison), "dead letters besides the poison records"
    assert process.poll() is None, f"worker exited with {process.returncode}"
    assert urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/live", timeout=5).status == 200


def _assert_dead_lettered(tally: Tally, raw: bytes, reason: str) -> None:
    sha256 = hashlib.sha256(raw).hexdigest()
    letters = [letter for letter in tally.dead_letters if letter.get("original_sha256") == sha256]
    assert len(letters) == 1, f"{len(letters)} dead letters for the {reason!r} record of {len(raw)} bytes"
    assert sha256 in tally.inputs, f"the {reason!r} record was not read back from the input topic"
    letter, source = letters[0], tally.inputs[sha256]
    assert letter["reason"].startswith(reason), letter["reason"]
    assert (letter["topic"], letter["partition"], letter["offset"]) == (source.topic, source.partition, source.offset)
    assert letter["original_bytes"] == len(raw)
    assert base64.b64decode(letter["original"]) == raw[:64 * 1024]
    assert letter["truncated"] == (len(raw) > 64 * 1024)
