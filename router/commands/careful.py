"""`inbox-router careful`: run the careful lane, which labels the records the worker is unsure of, until stopped."""

import argparse
import asyncio
import gc
from typing import TYPE_CHECKING

import structlog

from router.commands.worker import prepared, serve, settings_of
from router.rules import ConfigHolder
from router.settings import Settings

if TYPE_CHECKING:
    from router.classify.careful import CarefulModel
    from router.worker.careful import CarefulLane

NAME = "careful"
HELP = ("Label the mentions the worker is unsure of with the careful stage, and hand them back to it, until "
        "stopped (settings from INBOX_* variables; start more to label more).")
# Classified once before the lane joins its group: a careful model that cannot run stops it here.
PROBE = "great, another 3 hour delay, thanks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="routing config file, for its careful_below (default: INBOX_CONFIG_PATH)")


def run(args: argparse.Namespace) -> int:
    from router.worker.app import create_careful_app

    settings = settings_of(args)
    started = prepared(settings, "careful", lambda: _prepare(settings))
    if started is None:
        return 2
    lane, careful = started
    gc.freeze()  # what is loaded lives as long as the lane: the garbage collector need not rescan it
    app = create_careful_app(settings, lane, lane.holder, lane.models)
    structlog.get_logger("router.careful").info(
        "careful.starting", careful_topic=settings.careful_topic, labelled_topic=settings.labelled_topic,
        group=lane.group_id, config=str(lane.holder.current.path), careful_below=lane.holder.current.careful_below,
        model_version=lane.model_version, careful_model=careful.version)
    serve(app, settings)


def _prepare(settings: Settings) -> "tuple[CarefulLane, CarefulModel]":
    """Config and both models loaded and tried, topics there: all the careful lane needs."""
    from router.classify.careful import shipped
    from router.classify.model import SHIPPED_MODEL_DIR
    from router.kafka_io import ensure_copartitioned, ensure_topics
    from router.worker.careful import CarefulLane
    from router.worker.models import ModelHolder

    holder = ConfigHolder(settings.config_path)
    lane = CarefulLane(settings, holder, ModelHolder(settings.model_dir or SHIPPED_MODEL_DIR))
    careful = shipped()
    careful.classify([PROBE], lane.classifier(holder.current).classify([PROBE]))  # loads its sentence encoder
    asyncio.run(ensure_topics(settings, [settings.careful_topic, settings.dead_letter_topic]))
    # Keyed as the input, a record comes back on its input partition's number, to the worker holding its thread.
    asyncio.run(ensure_copartitioned(settings, settings.input_topic, [settings.labelled_topic], compacted=False))
    return lane, careful
