"""The before-image: every sample archive replayed with every example config gives the same bytes as when it was taken.

Held per archive and config: the sha256 of `replay --out`'s decisions, dead letters and summary, and of the
Kafka messages the worker would produce for the same records. One pair is also kept whole, to be read.
A deliberate change of the output is recorded with `UPDATE_GOLDEN=1 pytest tests/unit/test_golden_replay.py`.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from router.classify.model import Classifier
from router.cli import main
from router.conversations import Conversations
from router.crisis.detector import detector_for
from router.crisis.records import detection_messages
from router.pipeline import Router, messages_for
from router.replay.archive import read_archives
from router.replay.engine import replay
from router.rules import load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = REPO_ROOT / "tests" / "golden"
HASHES = GOLDEN / "replay.sha256.json"
READABLE = GOLDEN / "mentions.jsonl-router.yaml.messages"
READABLE_PAIR = ("deploy/samples/mentions.jsonl", "config/router.yaml")
# Relative paths: a dead letter names its archive as given, so the bytes do not depend on the checkout's place.
ARCHIVES = sorted(str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "deploy" / "samples").iterdir()
                  if path.name != "README.md")
CONFIGS = sorted(str(path.relative_to(REPO_ROOT)) for path in [*(REPO_ROOT / "config").glob("*.yaml"),
                                                                 *(REPO_ROOT / "config" / "examples").glob("*.yaml")]
                 if not path.name.endswith(".tests.yaml"))
OUT_FILES = ("decisions.jsonl", "dead-letters.jsonl", "summary.json")
UPDATING = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


@pytest.fixture(autouse=True)
def from_repo_root(monkeypatch, classifier):
    monkeypatch.chdir(REPO_ROOT)
    # Every replay loads the shipped model: loading it once keeps the 40-odd replays fast.
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, directory=None: classifier))


def kafka_messages(archive: str, config: str, classifier: Classifier) -> bytes:
    """What the worker would produce for the archive's records, one `topic TAB key TAB value` line per message.

    Incident events and records included; the crisis changelog, the detector's inner state, is not pinned.
    """
    router = Router(classifier, load_config(config))
    lines = []
    detector = detector_for(router.config.crisis)
    for outcome in replay(read_archives([Path(archive)]), router, conversations=Conversations(), detector=detector):
        messages = messages_for(outcome, decisions_topic="routing.decisions", dead_letter_topic="routing.dead-letters")
        detection = getattr(outcome, "detection", None)
        if detection is not None:
            messages += detection_messages(detection, router.config, scopes_topic=None)
        for message in messages:
            lines.append(b"\t".join((message.topic.encode(), message.key or b"", message.value)))
    return b"\n".join(lines) + b"\n"


def replay_out(archive: str, config: str, directory: Path, capsys) -> dict[str, bytes]:
    assert main(["replay", archive, "--config", config, "--out", str(directory), "--json"]) == 0
    capsys.readouterr()
    return {name: (directory / name).read_bytes() for name in OUT_FILES}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_replays_are_byte_identical_to_the_before_image(tmp_path, capsys, classifier):
    actual: dict[str, dict[str, dict[str, str]]] = {}
    for config in CONFIGS:
        for archive in ARCHIVES:
            outputs = replay_out(archive, config, tmp_path / f"{len(actual)}-{Path(archive).name}", capsys)
            outputs["kafka messages"] = messages = kafka_messages(archive, config, classifier)
            actual.setdefault(config, {})[archive] = {name: sha256(data) for name, data in outputs.items()}
            if (archive, config) == READABLE_PAIR:
                readable = messages
    if UPDATING:
        HASHES.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
        READABLE.write_bytes(readable)
    assert readable.decode().splitlines() == READABLE.read_text(encoding="utf-8").splitlines()
    expected = json.loads(HASHES.read_text())
    changed = [f"{config} x {archive}: {name}" for config, archives in expected.items()
               for archive, hashes in archives.items() for name, digest in hashes.items()
               if actual.get(config, {}).get(archive, {}).get(name) != digest]
    assert not changed, "replay output changed:\n" + "\n".join(changed)
    assert actual.keys() == expected.keys() and all(actual[c].keys() == expected[c].keys() for c in expected)
