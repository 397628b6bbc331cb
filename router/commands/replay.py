"""`inbox-router replay`: route archives of past mentions offline, diff two configs or models, or publish them."""

import argparse
import asyncio
import json
import sys
from contextlib import nullcontext
from pathlib import Path

from router.classify.careful import for_config
from router.classify.classifier import load_model
from router.errors import RouterError
from router.pipeline import Router
from router.replay import report
from router.replay.archive import ArchiveError, archive_sizes, read_archives
from router.replay.diff import exceeds
from router.replay.engine import BATCH_SIZE
from router.replay.output import OutputDir, diff_files, summary_files
from router.replay.pacing import OriginalPace, keyed
from router.replay.parts import Compare, RouterSpec, Summarise, compare, freeze_loaded, summarise
from router.replay.progress import Progress
from router.rules import load_config
from router.settings import get_settings

NAME = "replay"
HELP = ("Replay archives of mentions (JSONL, CSV, gzipped or not) through the worker's pipeline offline: "
        "summarise, diff two configs or models, or publish them to Kafka.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archives", nargs="+", type=Path, metavar="ARCHIVE",
                        help="*.jsonl, *.ndjson or *.csv, optionally gzipped (*.gz)")
    parser.add_argument("--config", type=Path, help="routing config (default: INBOX_CONFIG_PATH)")
    parser.add_argument("--model", type=Path, help="classifier directory (default: INBOX_MODEL_DIR or the shipped one)")
    parser.add_argument("--against", type=Path, metavar="CONFIG", help="diff: the changed routing config")
    parser.add_argument("--against-model", type=Path, metavar="DIR", help="diff: the changed classifier")
    parser.add_argument("--fail-on-change", type=float, metavar="PERCENT",
                        help="diff: exit 1 when more than PERCENT %% of the mentions change owner, queues or priority "
                             "(or any other routing a person sees, such as a due time)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write every decision (JSONL) and the reports here")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="route on N processes; the outputs and the summary are those of one (default: 1)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=argparse.SUPPRESS)
    publishing = parser.add_argument_group("publishing to Kafka instead of replaying offline")
    publishing.add_argument("--publish", action="store_true", help="produce the archive to the input topic")
    publishing.add_argument("--bootstrap-servers", metavar="HOST:PORT",
                            help="Kafka servers (default: INBOX_KAFKA_BOOTSTRAP_SERVERS)")
    publishing.add_argument("--topic", help="topic to produce to (default: INBOX_INPUT_TOPIC)")
    pace = publishing.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, metavar="N", help="at most N records per second")
    pace.add_argument("--speed", type=float, metavar="X", help="the original pace (created_at gaps) sped up X times")


def run(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    problem = _check(args)
    if problem:
        print(f"inbox-router replay: error: {problem}", file=sys.stderr)
        return 2
    try:
        if args.publish:
            return _publish(args)
        if args.against or args.against_model:
            return _diff(args)
        return _replay(args)
    except (RouterError, ArchiveError, OSError, KafkaError) as error:
        print(f"inbox-router replay: error: {error}", file=sys.stderr)
        return 2


def _check(args: argparse.Namespace) -> str | None:
    diffing = bool(args.against or args.against_model)
    if args.fail_on_change is not None and not diffing:
        return "--fail-on-change needs --against CONFIG or --against-model DIR"
    if (args.rate or args.speed or args.bootstrap_servers or args.topic) and not args.publish:
        return "--rate, --speed, --bootstrap-servers and --topic go with --publish"
    if args.publish and (diffing or args.out or args.json or args.jobs != 1):
        return "--publish only publishes: no --against, --out, --json or --jobs with it"
    if args.jobs < 1:
        return "--jobs must be at least 1"
    if (args.rate is not None and args.rate <= 0) or (args.speed is not None and args.speed <= 0):
        return "--rate and --speed must be positive"
    if args.batch_size < 1:
        return "--batch-size must be at least 1"
    missing = [str(path) for path in args.archives if not path.is_file()]
    return f"no such archive: {', '.join(missing)}" if missing else None


def _replay(args: argparse.Namespace) -> int:
    spec = _spec(args.config, args.model)
    router = spec.load()
    freeze_loaded()
    task = Summarise(spec, args.batch_size, write=bool(args.out), router=router)
    with _output(args, task.streams) as out, Progress(archive_sizes(args.archives)) as progress:
        summary = summarise(read_archives(args.archives, progress.bytes_read), task, args.jobs, out, progress)
    data = summary.as_dict()
    if out:
        summary_files(out, data, _context(args, router))
    print(_json(data) if args.json else report.summary_text(data), end="")
    return 0


def _diff(args: argparse.Namespace) -> int:
    spec = _spec(args.config, args.model)
    before = spec.load()
    classifier = load_model(args.against_model) if args.against_model else before.classifier
    config = load_config(args.against) if args.against else before.config
    after = Router(for_config(classifier, config), config)
    after_spec = RouterSpec(args.against or spec.config, args.against_model or spec.model)
    freeze_loaded()
    task = Compare(spec, after_spec, args.batch_size, write=bool(args.out), routers=(before, after))
    with _output(args, task.streams) as out, Progress(archive_sizes(args.archives)) as progress:
        diff = compare(read_archives(args.archives, progress.bytes_read), task, args.jobs, out, progress)
    data = diff.as_dict()
    if out:
        diff_files(out, data, _context(args, before))
    print(_json(data) if args.json else report.diff_text(data), end="")
    if args.fail_on_change is not None and exceeds(data, args.fail_on_change):
        counts = ", ".join(f"{name} {count}" for name, count in data["by_dimension"].items())
        print(f"inbox-router replay: {data['changed']} of {data['compared']} mentions ({data['changed_share']:.2%}) "
              f"change where they go or how they are handled ({counts}), more than the {args.fail_on_change:g} % "
              "allowed", file=sys.stderr)
        return 1
    return 0


def _publish(args: argparse.Namespace) -> int:
    from router.kafka_io import ensure_topics, publish

    settings = get_settings()
    if args.bootstrap_servers:
        settings = settings.model_copy(update={"kafka_bootstrap_servers": args.bootstrap_servers})
    topic = args.topic or settings.input_topic
    schedule = OriginalPace(args.speed) if args.speed else None
    records = keyed(read_archives(args.archives))
    asyncio.run(ensure_topics(settings, [topic]))  # with the partition count the worker expects
    sent = asyncio.run(publish(settings, topic, records, args.rate, schedule=schedule))
    print(f"published {sent} records to {topic} on {settings.kafka_bootstrap_servers}")
    return 0


def _output(args: argparse.Namespace, streams: tuple[str, ...]) -> OutputDir | nullcontext:
    return OutputDir(args.out, streams) if args.out else nullcontext()


def _spec(config: Path | None, model: Path | None) -> RouterSpec:
    settings = get_settings()
    model = model or settings.model_dir
    return RouterSpec(Path(config or settings.config_path), Path(model) if model else None)


def _context(args: argparse.Namespace, router: Router) -> dict:
    """What the reports say was replayed: the inputs as given, so the same command writes the same report."""
    return {"archives": [str(path) for path in args.archives], "config": str(args.config or router.config.path),
            "against": str(args.against) if args.against else None,
            "model": str(args.model) if args.model else router.classifier.version,
            "against model": str(args.against_model) if args.against_model else None}


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n"
