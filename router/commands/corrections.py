"""`inbox-router corrections export`: the agents' corrections, joined with their decisions, as labelled JSONL."""

import argparse
import asyncio
import sys
from pathlib import Path

from router.errors import RouterError

NAME = "corrections"
HELP = "Work with the labels agents fixed (the corrections topic): `export` writes them as training data."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="join the corrections with their decisions and texts into labelled JSONL",
        description="Read the corrections, decisions and input topics to their end (INBOX_* settings) and write "
                    "one labelled mention per corrected mention, the latest correction winning, in the format "
                    "`train --data` reads, with who corrected it, when, and what the model had said.")
    export.add_argument("--out", required=True, metavar="FILE.jsonl", help="where to write the labelled mentions")


def run(args: argparse.Namespace) -> int:
    from router.corrections.kafka import export
    from router.settings import get_settings

    try:
        report = asyncio.run(export(get_settings(), Path(args.out)))
    except (RouterError, OSError) as error:
        print(f"inbox-router corrections export: {error}", file=sys.stderr)
        return 2
    print(report)
    return 0
