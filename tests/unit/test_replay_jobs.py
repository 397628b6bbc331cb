"""`inbox-router replay --jobs N` writes what `--jobs 1` writes: same files, same order, same summary."""

import json
from pathlib import Path

import pytest

from router.cli import main
from router.conversations import Conversations
from router.crisis.detector import detector_for
from router.pipeline import Record
from router.replay.archive import read_archives
from router.replay.engine import replay as replay_all
from router.replay.parts import CHUNK_BATCHES, Compare, RouterSpec, Summarise, incident_events, parts
from router.replay.summary import Summary

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "deploy" / "samples"
ARCHIVES = [str(SAMPLES / name) for name in
            ("mentions.jsonl", "twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl", "mixed.csv", "summer.jsonl.gz",
             "crisis.jsonl")]
CONFIG = str(REPO / "config" / "router.yaml")
OTHER_CONFIG = str(REPO / "config" / "examples" / "honeycomb.yaml")
# Batches of 3 records make chunks of 30: the samples' hundred-odd records span several chunks per process.
SMALL_BATCHES = ("--batch-size", "3")


def replay(capsys, out: Path, *argv: str) -> str:
    assert main(["replay", *ARCHIVES, "--config", CONFIG, "--json", "--out", str(out), *SMALL_BATCHES, *argv]) == 0
    return capsys.readouterr().out


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_two_jobs_write_the_same_files_as_one(capsys, tmp_path):
    one = replay(capsys, tmp_path / "one", "--jobs", "1")
    two = replay(capsys, tmp_path / "two", "--jobs", "2")

    assert two == one
    assert files(tmp_path / "two") == files(tmp_path / "one")
    summary = json.loads(one)
    decisions = (tmp_path / "one" / "decisions.jsonl").read_text().splitlines()
    assert len(decisions) == summary["routed"] > 3 * CHUNK_BATCHES * 2  # more chunks than processes
    assert summary["dead_lettered"] > 0 and summary["records"] < summary["read"]  # webhooks hold several mentions
    # The spike spans several chunks, routed by both processes: one detector counted them all, in archive order.
    assert [row["trigger"] for row in summary["incidents"]].count("spike") == 1
    incident = next(row["incident_id"] for row in summary["incidents"] if row["trigger"] == "spike")
    assert sum(f'"incident_id":"{incident}"' in line for line in decisions) > 3 * 3


def test_two_jobs_diff_the_same_as_one(capsys, tmp_path):
    one = replay(capsys, tmp_path / "one", "--against", OTHER_CONFIG, "--jobs", "1")
    two = replay(capsys, tmp_path / "two", "--against", OTHER_CONFIG, "--jobs", "2")

    assert two == one and json.loads(one)["changed"] > 0
    assert files(tmp_path / "two") == files(tmp_path / "one")


def test_parts_come_back_in_input_order_whatever_the_jobs():
    spec = RouterSpec(Path(CONFIG), None)
    records = [Record(json.dumps({"id": f"m-{n}", "source": "twitter", "text": f"refund {n}",
                                  "created_at": "2026-11-20T10:00:00Z"}).encode(), offset=n) for n in range(95)]
    ids = {}
    for jobs in (1, 2):
        task = Summarise(spec, batch_size=2, write=True)
        lines = [line for part in parts(records, task, jobs) for line in part.lines["decisions"]]
        ids[jobs] = [json.loads(line)["mention_id"] for line in lines]
    assert ids[1] == ids[2] == [f"m-{n}" for n in range(95)]


def test_summaries_of_parts_add_up_to_the_summary_of_the_whole():
    spec = RouterSpec(Path(CONFIG), None)
    router = spec.load()
    whole = Summary()
    detector = detector_for(router.config.crisis)
    for outcome in replay_all(read_archives(map(Path, ARCHIVES)), router, 3, Conversations(), detector):
        whole.add(outcome)
        whole.add_incidents(incident_events([outcome]), router.config)
    merged = Summary()
    for part in parts(read_archives(map(Path, ARCHIVES)), Summarise(spec, 3, write=False, router=router), 1):
        merged.merge(part.counts)
    assert merged.as_dict() == whole.as_dict()
    assert any(row["resolved_at"] for row in whole.as_dict()["incidents"])


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_must_be_positive(capsys, jobs):
    assert main(["replay", ARCHIVES[0], "--config", CONFIG, "--jobs", jobs]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


def test_a_diff_task_sent_to_a_process_leaves_its_routers_behind():
    spec = RouterSpec(Path(CONFIG), None)
    router = spec.load()
    task = Compare(spec, RouterSpec(Path(OTHER_CONFIG), None), 3, write=False, routers=(router, router))
    assert task.__getstate__()["_routers"] is None
