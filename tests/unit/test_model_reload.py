"""Model hot reload: a changed model directory takes over only if it loads and classifies; the last good one stays."""

import asyncio
import json
import os
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest
from structlog.testing import capture_logs

from router.classify import runtime
from router.classify.model import SHIPPED_MODEL_DIR
from router.errors import ModelError
from router.metrics import MODEL_INFO, MODEL_RELOADS
from router.pipeline import Record
from router.rules import ConfigHolder
from router.settings import REPO_ROOT, Settings
from router.worker.models import ModelHolder
from router.worker.routing import InlineRouting

SETTINGS = Settings(routing_processes=0)
MENTION = json.dumps({"id": "m-1", "source": "twitter", "text": "my parcel never came, refund me",
                      "created_at": "2026-11-20T10:00:00Z"}).encode()


def write_model(directory, version: str, temperature: float, tick: int) -> None:
    """A valid model: the shipped arrays at another temperature, its manifest naming them and `version`."""
    directory.mkdir(exist_ok=True)
    model = runtime.load(SHIPPED_MODEL_DIR)
    runtime.save(replace(model, temperature=temperature), directory)
    manifest = runtime.read_manifest(SHIPPED_MODEL_DIR)
    digest = runtime.sha256((directory / runtime.RUNTIME_FILE).read_bytes())
    (directory / runtime.MANIFEST_FILE).write_text(json.dumps({**manifest, "version": version,
                                                              runtime.RUNTIME_HASH: digest}))
    touch(directory, tick)


def touch(directory, tick: int) -> None:
    # Filesystem clocks are coarse: set the mtimes explicitly so that every write looks new.
    for name in (runtime.MANIFEST_FILE, runtime.RUNTIME_FILE):
        if (directory / name).exists():
            os.utime(directory / name, ns=(tick * 10**9, tick * 10**9))


def count(outcome: str) -> float:
    return MODEL_RELOADS.labels(outcome=outcome)._value.get()


@pytest.fixture
def model_dir(tmp_path):
    directory = tmp_path / "model"
    write_model(directory, "v1", 1.0, 1)
    return directory


def route_one(routing: InlineRouting) -> str:
    """The fast model's version in the decision of one routed mention (the config's careful stage follows a +)."""
    batch = asyncio.run(routing.route([Record(MENTION, b"m-1", SETTINGS.input_topic, 0, 0)]))
    [decision] = [json.loads(value) for topic, _, value, *_ in batch.messages if topic == SETTINGS.decisions_topic]
    return decision["routing"]["model_version"].split("+")[0]


def test_a_changed_model_directory_takes_over_and_routing_uses_it(model_dir):
    models = ModelHolder(model_dir)
    routing = InlineRouting(SETTINGS, ConfigHolder(REPO_ROOT / "config" / "router.yaml"), models)
    assert route_one(routing) == "v1"
    loaded = count("loaded")

    write_model(model_dir, "v2", 2.0, 2)
    with capture_logs() as logs:
        assert asyncio.run(models.reload()) is True

    assert models.version == "v2" and count("loaded") == loaded + 1
    assert MODEL_INFO.labels(version="v2")._value.get() == 1
    assert [(entry["event"], entry["old_version"], entry["new_version"]) for entry in logs] == [
        ("model.reloaded", "v1", "v2")]
    assert route_one(routing) == "v2"


def test_an_unchanged_or_touched_directory_is_not_reloaded(model_dir):
    models = ModelHolder(model_dir)
    first = models.current
    assert models.check() is None
    touch(model_dir, 5)
    assert models.check() is None and models.current is first


@pytest.mark.parametrize(("breakage", "reason"), [
    ("garbage", "cannot load model .*runtime.npz"),
    ("format", "has format 99; this version reads 1 and 2"),
    ("hash", "runtime.npz does not match its manifest: runtime_sha256 is"),
    ("shapes", "the model cannot classify: ValueError"),
    ("manifest", "unreadable manifest .*manifest.json"),
])
def test_a_broken_model_is_refused_with_the_reason_and_the_last_good_one_stays(model_dir, breakage, reason):
    models = ModelHolder(model_dir)
    first, refused = models.current, count("refused")
    _break(model_dir, breakage)
    touch(model_dir, 3)

    with capture_logs() as logs:
        assert asyncio.run(models.reload()) is False

    assert models.current is first and models.version == "v1" and count("refused") == refused + 1
    [entry] = logs
    assert entry["event"] == "model.refused" and entry["kept_version"] == "v1" and entry["log_level"] == "error"
    assert entry["path"] == str(model_dir)
    assert re.search(reason, entry["reason"]), entry["reason"]
    touch(model_dir, 4)  # the same broken files again are not reported twice
    with capture_logs() as again:
        assert models.check() is None
    assert again == []


def _break(directory, breakage: str) -> None:
    path, manifest_path = directory / runtime.RUNTIME_FILE, directory / runtime.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    unhashed = {key: value for key, value in manifest.items() if key != runtime.RUNTIME_HASH}
    if breakage == "garbage":
        path.write_bytes(b"not a model")
        manifest_path.write_text(json.dumps(unhashed))
    elif breakage == "format":
        np.savez(path, format=99)
        manifest_path.write_text(json.dumps(unhashed))
    elif breakage == "hash":  # a directory caught half rewritten: another model's arrays beside this manifest
        model = runtime.load(directory)
        runtime.save(replace(model, temperature=3.0), directory)
    elif breakage == "shapes":
        model = runtime.load(directory)
        runtime.save(replace(model, coef=model.coef[:, :10]), directory)
        manifest_path.write_text(json.dumps(unhashed))
    else:
        manifest_path.write_text("{not json")


def test_missing_files_are_reported_once_and_the_directory_is_picked_up_when_it_is_back(model_dir, tmp_path):
    models = ModelHolder(model_dir)
    shutil.move(model_dir, tmp_path / "aside")
    with capture_logs() as logs:
        assert models.check() is None
        assert models.check() is None
    assert [entry["event"] for entry in logs] == ["model.refused"]
    assert "cannot read the model files: No such file or directory" in logs[0]["reason"]

    write_model(model_dir, "v3", 1.5, 6)
    assert asyncio.run(models.reload()) is True and models.version == "v3"


def test_a_directory_swapped_by_a_symbolic_link_is_picked_up(tmp_path):
    write_model(tmp_path / "a", "va", 1.0, 1)
    write_model(tmp_path / "b", "vb", 2.0, 1)  # same times and sizes: only the inodes differ
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "a")
    models = ModelHolder(link)

    (tmp_path / "next").symlink_to(tmp_path / "b")
    os.replace(tmp_path / "next", link)

    assert asyncio.run(models.reload()) is True and models.version == "vb"


def test_the_first_model_must_exist(tmp_path):
    with pytest.raises(ModelError, match="no model at .*manifest.json is missing"):
        ModelHolder(tmp_path)
