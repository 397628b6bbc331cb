"""The `inbox-router` command line: one subcommand per module in router.commands."""

import argparse
import sys
from types import ModuleType

from router.commands import careful, check_config, classify, corrections, evaluate, explain, replay, train, worker

# Each module defines NAME, HELP, add_arguments(parser) and run(args) -> exit code. What is slow to import
# (scikit-learn, faust, aiokafka) is imported inside run(), so that a command pays only for what it uses.
COMMANDS: tuple[ModuleType, ...] = (worker, careful, replay, check_config, explain, classify, train, evaluate,
                                    corrections)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inbox-router", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
