"""`inbox-router worker`: run the routing service until stopped."""

import argparse
import asyncio
from pathlib import Path

import structlog
from aiokafka.errors import KafkaError
from mode import Worker

from router.classify.model import Classifier
from router.errors import RouterError
from router.kafka_io import ensure_topics
from router.logs import configure_logging
from router.rules import ConfigHolder
from router.settings import get_settings
from router.worker.app import create_app, worker_topics

NAME = "worker"
HELP = "Route mentions from Kafka to department queues until stopped (settings from INBOX_* variables)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="routing config file (default: INBOX_CONFIG_PATH)")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.config:
        settings = settings.model_copy(update={"config_path": Path(args.config)})
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("router.worker")
    try:
        classifier = Classifier.load(settings.model_dir)
        holder = ConfigHolder(settings.config_path)
        # Before faust joins the group: a source topic missing at that moment is left unassigned.
        asyncio.run(ensure_topics(settings, worker_topics(settings, holder)))
    except (RouterError, KafkaError, OSError) as error:
        log.error("worker.refused_to_start", error=str(error))
        return 2
    app = create_app(settings, classifier, holder)
    log.info("worker.starting", input_topic=settings.input_topic, config=str(holder.current.path),
             config_hash=holder.current.hash, model_version=classifier.version)
    # Faust's worker handles signals and shutdown; our structlog set-up keeps stdout.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True, override_logging=False,
           redirect_stdouts=False).execute_from_commandline()
    return 0
