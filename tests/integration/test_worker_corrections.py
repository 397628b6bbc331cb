"""Corrections and model reload against the real broker: export what agents fixed, swap models without a restart."""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import pytest

from router.classify import runtime
from router.classify.model import SHIPPED_MODEL_DIR
from router.kafka_io import Collector, publish

pytestmark = pytest.mark.integration

TEXTS = {"it-1": "great, another 3 hour delay, thanks @airline",
         "it-2": "Do you offer a group rate for 40 rooms next month? Please send a quote",
         "it-3": "Are you hiring summer staff? I'd love to apply"}


def _mention(id_: str) -> bytes:
    return json.dumps({"id": id_, "source": "twitter", "text": TEXTS.get(id_, "my order never came, refund me"),
                       "created_at": "2026-11-20T10:00:00Z", "lang": "en"}).encode()


def _correction(mention_id: str, label: str, at: str, by: str = "alice@example.com") -> tuple[bytes, bytes]:
    value = {"mention_id": mention_id, "label": label, "by": by, "at": at}
    return mention_id.encode(), json.dumps(value).encode()


def _deploy_model(link, version: str, temperature: float, runtime_sha256: str | None = None) -> None:
    """The shipped arrays at another temperature, written in a directory of their own and swapped in by switching
    a symbolic link, as a deployment does, so that the worker never sees half a model."""
    directory = link.parent / version
    directory.mkdir()
    runtime.save(replace(runtime.load(SHIPPED_MODEL_DIR), temperature=temperature), directory)
    digest = runtime_sha256 or runtime.sha256((directory / runtime.RUNTIME_FILE).read_bytes())
    manifest = {**runtime.read_manifest(SHIPPED_MODEL_DIR), "version": version, runtime.RUNTIME_HASH: digest}
    (directory / runtime.MANIFEST_FILE).write_text(json.dumps(manifest))
    (link.parent / "next").symlink_to(directory)
    os.replace(link.parent / "next", link)


async def _decisions(settings, ids: list[str]) -> dict[str, dict]:
    async with Collector(settings, {settings.decisions_topic}) as collector:
        await publish(settings, settings.input_topic, [(id_.encode(), _mention(id_)) for id_ in ids])
        received = await collector.collect(len(ids), {settings.decisions_topic}, timeout=60)
    return {d["mention_id"]: d["routing"] for d in (json.loads(r.value) for r in received)}


async def test_corrections_are_exported_with_their_decisions_and_a_bad_one_is_dead_lettered(
        worker_settings, start_worker, worker_environment, tmp_path):
    s = worker_settings
    start_worker(s)
    routed = await _decisions(s, list(TEXTS))

    corrections = [_correction("it-1", "other", "2026-11-21T09:00:00Z", by="bob"),
                   _correction("it-1", "complaint", "2026-11-21T10:00:00+01:00"),  # 09:00Z as well: read last, wins
                   _correction("it-3", "recruitment", "2026-11-28T12:00:00Z"),
                   _correction("it-9", "complaint", "2026-11-28T12:00:00Z"),  # never routed
                   (b"it-2", b'{"mention_id": "it-2", "label": "refund", "by": "carol", "at": "2026-11-21T09:00:00Z"}')]
    async with Collector(s, {s.dead_letter_topic}) as collector:
        await publish(s, s.corrections_topic, corrections)
        [letter] = [json.loads(r.value) for r in await collector.collect(1, {s.dead_letter_topic}, timeout=60)]
    assert letter["reason"].startswith("invalid correction: label: Value error, must be one of complaint")
    assert letter["topic"] == s.corrections_topic
    assert json.loads(base64.b64decode(letter["original"]))["label"] == "refund"

    out = tmp_path / "corrections.jsonl"
    done = subprocess.run([sys.executable, "-m", "router.cli", "corrections", "export", "--out", str(out)],
                          env=worker_environment(s), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote 2 labelled mentions from 3 corrected mentions to {out}" in done.stdout
    assert "left out 1 malformed corrections" in done.stdout
    assert "left out 1 corrected mentions with no decision" in done.stdout and "it-9" in done.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["mention_id"], line["label"], line["by"]) for line in lines] == [
        ("it-1", "complaint", "alice@example.com"), ("it-3", "recruitment", "alice@example.com")]
    first = lines[0]
    assert (first["text"], first["predicted_label"], first["confidence"], first["model_version"]) == (
        TEXTS["it-1"], routed["it-1"]["label"], routed["it-1"]["confidence"], routed["it-1"]["model_version"])
    assert first["provenance"] == "correction" and first["lang"] == "en"


def _metrics(settings) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=5).read().decode()


async def test_the_worker_swaps_in_a_new_model_directory_and_keeps_it_over_a_broken_one(
        worker_settings, start_worker, tmp_path):
    model_dir = tmp_path / "model"
    _deploy_model(model_dir, "it-model-1", 1.0)
    s = worker_settings.model_copy(update={"model_dir": model_dir})  # two routing processes, the default
    start_worker(s)
    assert {r["model_version"] for r in (await _decisions(s, ["m-1", "m-2", "m-3"])).values()} == {"it-model-1"}

    _deploy_model(model_dir, "it-model-2", 2.0)
    time.sleep(3)  # the worker checks the directory every 0.5 s in these tests
    assert {r["model_version"] for r in (await _decisions(s, ["m-4", "m-5", "m-6"])).values()} == {"it-model-2"}

    # A manifest that does not go with its arrays, as in a directory caught half rewritten.
    _deploy_model(model_dir, "it-model-3", 3.0, runtime_sha256="0" * 64)
    time.sleep(3)
    assert {r["model_version"] for r in (await _decisions(s, ["m-7", "m-8", "m-9"])).values()} == {"it-model-2"}
    metrics = _metrics(s)
    assert 'inbox_router_model_reloads_total{outcome="loaded"} 1.0' in metrics
    assert 'inbox_router_model_reloads_total{outcome="refused"} 1.0' in metrics
    assert 'inbox_router_model_info{version="it-model-2"} 1.0' in metrics
    log = "".join(path.read_text() for path in tmp_path.glob("worker-*.log"))
    refused = [json.loads(line) for line in log.splitlines() if '"model.refused"' in line]
    assert len(refused) == 1 and refused[0]["kept_version"] == "it-model-2"
    assert "does not match its manifest" in refused[0]["reason"]
