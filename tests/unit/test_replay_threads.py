"""Replay routes threads as the worker does: a reply keeps its thread's owner, whatever process routes its chunk."""

import json
from pathlib import Path

import pytest

from router.classify.model import Classifier
from router.cli import main
from router.conversations import Conversations
from router.pipeline import Routed, Router
from router.replay.archive import read_archives
from router.replay.engine import replay
from router.rules import load_config

REPO = Path(__file__).resolve().parents[2]


def test_replay_sends_the_three_comments_of_a_sample_thread_to_one_queue():
    router = Router(Classifier.load(), load_config(REPO / "config" / "router.yaml"))
    archive = [REPO / "deploy" / "samples" / "facebook.jsonl"]

    def queues_of_thread(conversations: Conversations | None) -> list[tuple[str, ...]]:
        return [o.decision.queues for o in replay(read_archives(archive), router, conversations=conversations)
                if isinstance(o, Routed) and o.mention.thread_id == "p-h-10"]

    assert len(set(queues_of_thread(None))) == 3  # what the rules alone do: three comments, three queues
    assert queues_of_thread(Conversations()) == [("dept.customer_service", "social.hub")] * 3


def test_replay_on_several_processes_keeps_a_thread_that_spans_chunks(capsys, tmp_path, unsticky):
    archive = tmp_path / "threads.jsonl"
    lines = []
    for n in range(40):  # thread t-0 opens with a complaint; its replies ask prices, chunks of 9 records apart
        text = "Worst service ever, I want a refund now" if n == 0 else "What is the price of a room for two nights?"
        lines.append(json.dumps({"id": f"c-{n}", "source": "facebook", "text": text, "thread_id": f"t-{n % 3}",
                                 "created_at": "2026-11-20T10:00:00Z"}))
    archive.write_text("\n".join(lines) + "\n")
    config = str(REPO / "config" / "router.yaml")
    outputs = {}
    for jobs in ("1", "2"):
        assert main(["replay", str(archive), "--config", config, "--batch-size", "1", "--jobs", jobs, "--json",
                     "--out", str(tmp_path / jobs)]) == 0
        capsys.readouterr()
        outputs[jobs] = (tmp_path / jobs / "decisions.jsonl").read_text()
    assert outputs["2"] == outputs["1"]
    decisions = [json.loads(line) for line in outputs["1"].splitlines()]
    owners = {d["routing"]["owner"] for d in decisions if d["thread_id"] == "t-0"}
    assert owners == {"customer_service"}  # replies in later chunks kept the owner of the first
    assert {d["routing"]["owner"] for d in decisions if d["thread_id"] == "t-1"} == {"sales"}
    diffs = {}
    for jobs in ("1", "2"):  # the same with two routers, each with its own threads
        assert main(["replay", str(archive), "--config", config, "--against", str(unsticky),
                     "--batch-size", "1", "--jobs", jobs, "--json"]) == 0
        diffs[jobs] = json.loads(capsys.readouterr().out)
    assert diffs["2"] == diffs["1"] and diffs["1"]["owner_moves"] == {"customer_service -> sales": 13}


@pytest.fixture
def unsticky(tmp_path) -> Path:
    """The shipped config with threads turned off at the root."""
    text = (REPO / "config" / "router.yaml").read_text()
    path = tmp_path / "unsticky.yaml"
    assert "\n  name: root\n" in text
    path.write_text(text.replace("\n  name: root\n", "\n  name: root\n  sticky: false\n"))
    return path
