"""`inbox-router worker`: run the routing service until stopped."""

import argparse
import asyncio
import gc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import structlog

from router.errors import RouterError
from router.logs import configure_logging
from router.rules import ConfigHolder
from router.settings import Settings, get_settings

if TYPE_CHECKING:
    from router.worker.detection import IncidentWatch
    from router.worker.models import ModelHolder
    from router.worker.processes import Routing

T = TypeVar("T")

NAME = "worker"
HELP = "Route mentions from Kafka to department queues until stopped (settings from INBOX_* variables)."
# How long each bootstrap server may take to say why it refuses the worker, once the worker could not start.
DIAGNOSIS_SECONDS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="routing config file (default: INBOX_CONFIG_PATH)")


def run(args: argparse.Namespace) -> int:
    from router.worker.app import create_app

    settings = settings_of(args)
    log = structlog.get_logger("router.worker")
    started = prepared(settings, "worker", lambda: _prepare(settings, log))
    if started is None:
        return 2
    holder, models, routing, watch = started
    # What is loaded lives as long as the worker: the garbage collector need not rescan it.
    gc.freeze()
    app = create_app(settings, routing, holder, models, watch)
    log.info("worker.starting", input_topic=settings.input_topic, config=str(holder.current.path),
             config_hash=holder.current.hash, model_version=routing.model_version)
    serve(app, settings)


def _prepare(settings: Settings, log: Any) -> "tuple[ConfigHolder, ModelHolder, Routing, IncidentWatch]":
    """Config, model and routing processes loaded, topics there, open incidents read: all the worker needs."""
    from router.classify.careful import shipped
    from router.classify.model import SHIPPED_MODEL_DIR
    from router.kafka_io import ensure_copartitioned, ensure_signals, ensure_topics
    from router.worker.app import worker_topics
    from router.worker.detection import IncidentWatch
    from router.worker.models import ModelHolder
    from router.worker.processes import make_routing

    holder = ConfigHolder(settings.config_path)
    if holder.current.careful_below is not None:
        shipped()  # its version names the decisions the worker makes (never its encoder): a broken one stops us here
    models = ModelHolder(settings.model_dir or SHIPPED_MODEL_DIR)
    routing = make_routing(settings, holder, models)
    # Before faust joins the group: a source topic missing at that moment is left unassigned.
    asyncio.run(ensure_topics(settings, worker_topics(settings, holder.current)))
    # The changelog keeps each thread's last state; claims come and go like mentions (keyless ones too).
    asyncio.run(ensure_copartitioned(settings, settings.input_topic, [settings.threads_topic], compacted=True))
    # Claims, and mentions back from the careful lane, meet their thread's state on the same partition number.
    copartitioned = [settings.claims_topic, settings.labelled_topic]
    asyncio.run(ensure_copartitioned(settings, settings.input_topic, copartitioned, compacted=False))
    asyncio.run(ensure_signals(settings))
    # The incidents open now, before any mention is routed: a restarted worker goes on routing in them.
    watch = IncidentWatch(settings, routing.incidents)
    log.info("incidents.read", events=asyncio.run(watch.catch_up()))
    return holder, models, routing, watch


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings from the environment, the command line's --config over them; logging set up with them."""
    settings = get_settings()
    if args.config:
        settings = settings.model_copy(update={"config_path": Path(args.config)})
    configure_logging(settings.log_format, settings.log_level)
    return settings


def prepared(settings: Settings, service: str, prepare: Callable[[], T]) -> T | None:
    """What `prepare` gives; None once why it failed is logged as `SERVICE.refused_to_start` (exit code 2)."""
    from aiokafka.errors import KafkaConnectionError, KafkaError

    log = structlog.get_logger(f"router.{service}")
    try:
        return prepare()
    except KafkaConnectionError as error:
        # aiokafka's bootstrap error says only that no server would do: ask them why (a wrong password, an
        # untrusted certificate, nothing listening), so that the line an operator reads names the cause.
        refusals = asyncio.run(_refusals(settings))
        log.error(f"{service}.refused_to_start", error=f"cannot connect to Kafka: {refusals or error}")
    except (RouterError, KafkaError, OSError) as error:
        log.error(f"{service}.refused_to_start", error=str(error))
    return None


def serve(app: Any, settings: Settings) -> NoReturn:
    """Run the faust app until stopped; faust's worker handles signals and shutdown, and exits the process."""
    from mode import Worker

    # Our structlog set-up keeps stdout.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True, override_logging=False,
           redirect_stdouts=False).execute_from_commandline()


async def _refusals(settings: Settings) -> str:
    """Why each bootstrap server refuses the worker, in the broker's or TLS's words (which never hold the password)."""
    from aiokafka.conn import collect_hosts, create_conn
    from aiokafka.errors import KafkaError

    from router.kafka_io import client_options

    options = {name: value for name, value in client_options(settings).items() if name != "bootstrap_servers"}

    async def ask(host: str, port: int) -> str | None:
        try:
            connection = await asyncio.wait_for(create_conn(host, port, **options), DIAGNOSIS_SECONDS)
        except (KafkaError, OSError, asyncio.TimeoutError) as error:
            return f"{host}:{port}: {str(error) or type(error).__name__}"
        connection.close()
        return None

    hosts = collect_hosts(settings.kafka_bootstrap_servers, randomize=False)
    answers = await asyncio.gather(*(ask(host, port) for host, port, _ in hosts))
    return "; ".join(answer for answer in answers if answer)
