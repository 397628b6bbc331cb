"""`inbox-router check-config`: validate routing configs, show their tree, run their rule tests."""

import argparse
from pathlib import Path

from router.errors import ConfigError, RouterError
from router.rules import load_config
from router.rules.render import render_tree
from router.rules.testing import SuiteReport, config_path_for, run_tests, tests_path_for

NAME = "check-config"
HELP = "Check routing config files: prints PATH: SUCCESS or PATH: FAILED: reason; exits 1 if any failed."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="config files; a *.tests.yaml file runs its tests against the config beside it")
    parser.add_argument("--tree", action="store_true", help="print each config's routing tree")
    parser.add_argument("--test", action="store_true", help="also run the *.tests.yaml file beside each config")


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.paths:
        ok, lines = check(Path(path), tree=args.tree, test=args.test)
        failed += not ok
        for line in lines:
            print(line)
    return 1 if failed else 0


def check(path: Path, *, tree: bool = False, test: bool = False) -> tuple[bool, list[str]]:
    """One file's verdict and the lines to print for it."""
    is_tests = path.name.endswith(".tests.yaml")
    config_path = config_path_for(path) if is_tests else path
    try:
        config = load_config(config_path)
    except ConfigError as error:
        return False, [f"{path}: FAILED: {error}"]
    extra = render_tree(config) if tree else []
    if not (is_tests or test):
        return True, [f"{path}: SUCCESS", *extra]
    tests_path = path if is_tests else tests_path_for(path)
    if not tests_path.exists():
        return False, [f"{path}: FAILED: no tests file {tests_path} beside it", *extra]
    try:
        report = run_tests(config, tests_path)
    except RouterError as error:  # a malformed tests file, or a classifier that cannot load
        return False, [f"{path}: FAILED: {error}", *extra]
    return _verdict(path, report, extra)


def _verdict(path: Path, report: SuiteReport, extra: list[str]) -> tuple[bool, list[str]]:
    failed = report.failed
    if not failed:
        return True, [f"{path}: SUCCESS", *extra]
    lines = [f"{path}: FAILED: {len(failed)} of {len(report.results)} tests failed in {report.path}"]
    for result in failed:
        where = f'  {report.path}:{result.line}: test "{result.name}"'
        lines += [f"{where}: {problem}" for problem in result.problems]
        if result.routed:
            lines.append(f"{where}: routed with {result.routed}")
    return False, lines + extra
