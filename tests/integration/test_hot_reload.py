"""The running worker takes a changed config without a restart, and keeps the last good one over a broken file."""

import json
import time
import urllib.request

import pytest

from router.kafka_io import Collector, publish
from router.rules import load_config
from router.settings import REPO_ROOT

pytestmark = pytest.mark.integration

EXAMPLE = REPO_ROOT / "config" / "examples" / "decentralized.yaml"


def _mention(id_: str) -> bytes:
    text = "My order arrived broken and nobody answers my emails, I want a refund now. Terrible service."
    return json.dumps({"id": id_, "source": "twitter", "text": text, "created_at": "2026-11-20T10:00:00Z"}).encode()


async def _route_one(settings, id_: str, queues: set[str]) -> tuple[dict, set[str]]:
    """Publish one mention; its decision and the queue topics it reached."""
    async with Collector(settings, queues | {settings.decisions_topic}) as collector:
        await publish(settings, settings.input_topic, [(None, _mention(id_))])
        received = await collector.collect(1, {settings.decisions_topic}, timeout=30)
    [decision] = [json.loads(r.value) for r in received if r.topic == settings.decisions_topic]
    return decision["routing"], {r.topic for r in received if r.topic in queues}


def _wait_for_reload(seconds: float = 3.0) -> None:
    time.sleep(seconds)  # the worker polls the file every 0.5 s in these tests


async def test_changed_config_is_used_and_broken_config_is_refused(worker_settings, start_worker, tmp_path):
    config_path = tmp_path / "router.yaml"
    original = EXAMPLE.read_text()
    config_path.write_text(original)
    settings = worker_settings.model_copy(update={"config_path": config_path})
    start_worker(settings)
    first = load_config(config_path)

    routing, reached = await _route_one(settings, "reload-1", first.topics())
    assert routing["owner"] == "customer_service" and routing["config_hash"] == first.hash
    assert reached == {"brewery.customer_service"}

    config_path.write_text(original.replace("customer_service: brewery.customer_service",
                                            "customer_service: brewery.support"))
    second = load_config(config_path)
    _wait_for_reload()
    routing, reached = await _route_one(settings, "reload-2", second.topics())
    assert routing["config_hash"] == second.hash
    assert reached == {"brewery.support"}

    config_path.write_text(original.replace("owner: customer_service", "owner: complaints_team"))
    _wait_for_reload()
    routing, reached = await _route_one(settings, "reload-3", second.topics())
    assert routing["config_hash"] == second.hash, "a broken file must leave the last good config running"
    assert reached == {"brewery.support"}
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=5).read().decode()
    assert 'inbox_router_config_reloads_total{outcome="refused"} 1.0' in metrics
    assert 'inbox_router_config_reloads_total{outcome="loaded"} 1.0' in metrics
