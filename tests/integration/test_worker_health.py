"""A running worker tells an orchestrator whether it is ready and alive, and Prometheus how far behind it is."""

import json
import time
import urllib.request

import pytest

from router.classify.model import Classifier
from router.kafka_io import Collector, publish

pytestmark = pytest.mark.integration


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_ready_and_live_once_partitions_are_assigned(worker_settings, start_worker, mention_bytes):
    start_worker(worker_settings)
    watched = {worker_settings.decisions_topic}
    async with Collector(worker_settings, watched) as collector:  # decisions flowing: partitions are assigned
        await publish(worker_settings, worker_settings.input_topic, [(None, mention_bytes(id="health-1"))])
        assert len(await collector.collect(1, watched, timeout=60)) == 1

    status, body = _get(worker_settings.web_port, "/ready")
    assert status == 200
    assert json.loads(body) == {"ok": True, "partitions": list(range(worker_settings.topic_partitions))}
    assert _get(worker_settings.web_port, "/live")[0] == 200

    metrics, lags = "", []
    for _ in range(50):  # the decision is out before the batch is committed and measured: wait for that
        _, metrics = _get(worker_settings.web_port, "/metrics")
        lags = [line for line in metrics.splitlines() if line.startswith("inbox_router_consumer_lag{")]
        if lags:
            break
        time.sleep(0.1)
    assert f'inbox_router_model_info{{version="{Classifier.load().version}"}} 1.0' in metrics
    assert lags and all(line.endswith(" 0.0") for line in lags)
