"""The faust apps: web pages and reload timers around the routing loop or the careful lane, which own Kafka clients."""

from collections.abc import Awaitable, Callable

import faust
from faust.app.base import BootStrategy
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from router import metrics
from router.kafka_io import ensure_topics
from router.rules import ConfigHolder, RoutingConfig
from router.settings import Settings
from router.worker.careful import CarefulLane
from router.worker.detection import CrisisLoop, IncidentWatch
from router.worker.loop import RoutingLoop
from router.worker.models import ModelHolder
from router.worker.processes import Routing


class _WebAndTimersOnly(BootStrategy):
    """Faust runs the web server and the timers; the routing loop consumes and produces itself.

    Faust's own stream acks a batch whether or not its outputs were delivered, and commits on a
    timer; the loop commits a batch's offsets only after the broker acknowledged all its outputs.
    """

    enable_kafka = False


class _App(faust.App):
    BootStrategy = _WebAndTimersOnly


def create_app(settings: Settings, routing: Routing, holder: ConfigHolder, models: ModelHolder,
               watch: IncidentWatch) -> faust.App:
    """A faust app that runs the routing and crisis loops, serves metrics and health, and reloads config and model."""
    loop = RoutingLoop(settings, routing)
    metrics.MODEL_INFO.labels(version=routing.model_version).set(1)
    # Parsed in another thread, and swapped in only once its topics exist.
    app = _app(settings, settings.app_id, loop, holder, models,
               lambda config: ensure_topics(settings, worker_topics(settings, config)))
    app.service(loop)
    app.service(CrisisLoop(settings, holder, watch))
    return app


def create_careful_app(settings: Settings, lane: CarefulLane, holder: ConfigHolder, models: ModelHolder) -> faust.App:
    """A faust app that runs the careful lane, serves metrics and health, and reloads config and fast model."""
    metrics.MODEL_INFO.labels(version=lane.model_version).set(1)
    app = _app(settings, lane.group_id, lane, holder, models, _nothing_to_prepare)
    app.service(lane)
    return app


def _app(settings: Settings, app_id: str, service: RoutingLoop | CarefulLane, holder: ConfigHolder,
         models: ModelHolder, prepare: Callable[[RoutingConfig], Awaitable[object]]) -> faust.App:
    """The web pages (metrics, readiness of `service`, liveness) and the reload timers of config and model."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    app = _App(app_id, web_port=settings.web_port, datadir=str(settings.data_dir / app_id))

    @app.timer(interval=settings.config_reload_seconds)
    async def reload_config() -> None:
        await holder.reload(prepare)

    @app.timer(interval=settings.config_reload_seconds)
    async def reload_model() -> None:
        # Loaded and tried in another thread; the routing processes take it with their next batch.
        await models.reload()

    @app.page("/metrics")
    async def metrics_page(web, request):  # noqa: ANN001 - faust's view signature
        # aiohttp sets the charset itself and refuses one inside content_type.
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4")

    @app.page("/ready")
    async def ready_page(web, request):  # noqa: ANN001
        """Ready once the model and config are loaded (they are, before the app exists) and partitions assigned."""
        return _health(web, service.ready, partitions=service.assigned)

    @app.page("/live")
    async def live_page(web, request):  # noqa: ANN001
        return _health(web, service.live)

    return app


async def _nothing_to_prepare(config: RoutingConfig) -> None:
    """The careful lane writes to the same topics whatever the config."""


def worker_topics(settings: Settings, config: RoutingConfig) -> set[str]:
    """Every topic the worker reads or writes with this config."""
    return config.topics() | {settings.input_topic, settings.decisions_topic, settings.dead_letter_topic,
                              settings.incidents_topic, settings.corrections_topic, settings.careful_topic}


def _health(web, healthy: bool, **details):  # noqa: ANN001, ANN202
    return web.json({"ok": healthy, **details}, status=200 if healthy else 503)
