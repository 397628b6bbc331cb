"""Rule tests, in the manner of promtool: mentions in a `*.tests.yaml` file and the routing expected."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from router.classify.careful import for_config
from router.classify.classifier import Classifier, ForcedLabel, load_model
from router.classify.labels import LABELS, Classification
from router.conversations import Conversation
from router.crisis.settings import Incident
from router.errors import InvalidMention
from router.mentions import Mention, decode_record
from router.rules.config import RoutingConfig
from router.rules.yamltext import (
    YamlText,
    check_keys,
    describe,
    expect_list,
    expect_mapping,
    expect_string,
    expect_strings,
    line_of,
    read_yaml_text,
    require_keys,
)

TEST_KEYS = ("name", "mention", "label", "confidence", "low_confidence", "thread_owner", "incident", "expect")
EXPECT_KEYS = ("owner", "queues", "priority", "copies", "tags", "route", "due_by")
TEST_INCIDENT = "inc-test"
# Canonical test mentions may leave out what routing never looks at.
DEFAULT_CREATED_AT = "2024-01-01T00:00:00+00:00"

ClassifierLoader = Callable[[], Classifier]


@dataclass
class CaseResult:
    name: str
    line: int
    problems: list[str] = field(default_factory=list)
    routed: str = ""  # how the mention was routed, told when the test fails, so nobody has to rerun `explain`


@dataclass
class SuiteReport:
    path: Path
    results: list[CaseResult]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if r.problems]


def tests_path_for(config_path: str | Path) -> Path:
    """`config/x.yaml` is tested by `config/x.tests.yaml`."""
    path = Path(config_path)
    return path.with_name(path.name.removesuffix(".yaml").removesuffix(".yml") + ".tests.yaml")


def config_path_for(tests_path: str | Path) -> Path:
    path = Path(tests_path)
    return path.with_name(path.name.removesuffix(".tests.yaml") + ".yaml")


def run_tests(
    config: RoutingConfig, tests_path: str | Path, load_classifier: ClassifierLoader | None = None
) -> SuiteReport:
    """Run every test of the file; raises ConfigError when the tests file itself is malformed."""
    src = read_yaml_text(tests_path)
    cases = _cases(src)
    runner = _Runner(config, load_classifier)
    return SuiteReport(src.path, [runner.run(src, case, line) for case, line in cases])


def _cases(src: YamlText) -> list[tuple[CommentedMap, int]]:
    doc = src.parse()
    if not isinstance(doc, CommentedMap):
        raise src.error(1, "a tests file must be a mapping with a `tests:` list")
    check_keys(src, doc, "the tests file", ("tests",))
    require_keys(src, doc, "the tests file", ("tests",))
    items = expect_list(src, doc["tests"], line_of(doc, "tests"), "tests")
    if not items:
        raise src.error(line_of(doc, "tests"), "tests is empty: write at least one test")
    cases: list[tuple[CommentedMap, int]] = []
    names: dict[str, int] = {}  # test name -> the line that first used it
    for index, item in enumerate(items):
        line = line_of(items, index)
        case = expect_mapping(src, item, line, "each test")
        require_keys(src, case, "a test", ("name", "mention", "expect"))
        name = expect_string(src, case["name"], line_of(case, "name"), "a test's name")
        check_keys(src, case, f'test "{name}"', TEST_KEYS)
        if name in names:
            raise src.error(line_of(case, "name"), f'duplicate test name "{name}" (first used at line {names[name]})')
        names[name] = line_of(case, "name")
        _check_case(src, case, name)
        cases.append((case, line))
    return cases


def _check_case(src: YamlText, case: CommentedMap, name: str) -> None:
    subject = f'test "{name}"'
    expect = expect_mapping(src, case["expect"], line_of(case, "expect"), f"{subject} expect")
    check_keys(src, expect, f"{subject} expect", EXPECT_KEYS)
    if not expect:
        raise src.error(line_of(case, "expect"), f"{subject} expects nothing: give at least owner or queues")
    for key in ("queues", "copies", "tags", "route"):
        if key in expect:
            expect_strings(src, expect[key], line_of(expect, key), f"expect.{key}")
    due_by = expect.get("due_by")
    if due_by is not None and _instant(due_by) is None:
        raise src.error(line_of(expect, "due_by"), f"{subject}: expect.due_by must be null or a date and time with "
                                                   f"its zone, such as 2026-11-20T19:00:00Z; got {describe(due_by)}")
    if "label" in case and case["label"] not in LABELS:
        raise src.error(line_of(case, "label"), f"{subject} forces unknown label {describe(case['label'])} "
                                                f"(known: {', '.join(LABELS)})")
    confidence = case.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise src.error(line_of(case, "confidence"),
                        f"{subject}: confidence must be between 0 and 1, got {describe(confidence)}")
    if "confidence" in case and "label" not in case:
        raise src.error(line_of(case, "confidence"), f"{subject}: confidence goes with a forced label")
    if not isinstance(case.get("low_confidence", False), bool):
        raise src.error(line_of(case, "low_confidence"), f"{subject}: low_confidence must be true or false")
    if "thread_owner" in case:
        expect_string(src, case["thread_owner"], line_of(case, "thread_owner"), f"{subject} thread_owner")
    if not isinstance(case.get("incident", False), bool):
        raise src.error(line_of(case, "incident"), f"{subject}: incident must be true or false")


class _Runner:
    """Routes each test mention as the worker would; the model is loaded only if a test needs it."""

    def __init__(self, config: RoutingConfig, load_classifier: ClassifierLoader | None):
        self.config = config
        self._load = load_classifier or load_model
        self._model: Classifier | None = None

    def model(self) -> Classifier:
        if self._model is None:  # the cascade when the config has a careful stage, as replay and classify
            self._model = for_config(self._load(), self.config)
        return self._model

    def run(self, src: YamlText, case: CommentedMap, line: int) -> CaseResult:
        result = CaseResult(case["name"], line)
        try:
            mention = self.mention(case["mention"])
        except InvalidMention as error:
            result.problems.append(f"the mention is not valid: {error}")
            return result
        if "thread_owner" in case and mention.thread_id is None:
            result.problems.append("thread_owner needs a mention with a thread_id")
            return result
        classifier = self.classifier(case)
        classification = classifier.classify([mention.text], [mention.lang])[0]
        # A reply in a thread that an earlier mention gave to `thread_owner`.
        thread = Conversation(owner=case["thread_owner"]) if "thread_owner" in case else None
        if case.get("incident") and self.config.crisis is None:
            result.problems.append("incident: true needs a crisis section in the config")
            return result
        # A mention of an open incident's scope: the crisis override applies.
        incident = Incident(TEST_INCIDENT, "test") if case.get("incident") else None
        ruling = self.config.route(mention, classification, classifier=classifier,
                                   low_confidence=case.get("low_confidence"), thread=thread, incident=incident)
        result.problems.extend(_compare(case["expect"], ruling.decision.as_dict()))
        if result.problems:
            result.routed = _routed(classification, "label" in case, ruling.low_confidence, ruling.decision.route)
        return result

    def mention(self, node: Any) -> Mention:
        payload = _plain(node)
        if isinstance(payload, dict) and "source" in payload:
            payload.setdefault("id", "test")
            payload.setdefault("created_at", DEFAULT_CREATED_AT)
        mentions = decode_record(json.dumps(payload).encode("utf-8"))
        if len(mentions) != 1:
            raise InvalidMention(f"the payload holds {len(mentions)} mentions; a test needs exactly one")
        return mentions[0]

    def classifier(self, case: CommentedMap) -> Classifier:
        if "label" not in case:
            return self.model()
        return ForcedLabel(case["label"], float(case.get("confidence", 1.0)), model=self.model)


def _compare(expect: CommentedMap, actual: dict) -> list[str]:
    problems = []
    for key, wanted in expect.items():
        got = actual[key]
        if key in ("queues", "copies", "tags"):
            same = sorted(wanted) == sorted(got)
        elif key == "route":
            same = list(wanted) == list(got)
        elif key == "due_by":
            same = (None if wanted is None else _instant(wanted)) == (None if got is None else _instant(got))
        else:
            same = wanted == got
        if not same:
            problems.append(f"{key}: expected {_show(wanted)}, got {_show(got)}")
    return problems


def _routed(classification: Classification, forced: bool, low_confidence: bool, route: tuple[str, ...]) -> str:
    how = "forced" if forced else "classified"
    triage = ", low confidence" if low_confidence else ""
    return (f"label {classification.label} ({how}), confidence {round(classification.confidence, 4):g}{triage}, "
            f"route {' > '.join(route)}")


def _instant(value: Any) -> datetime | None:
    """A due_by as YAML gives it (a timestamp, or a string) or as a decision writes it; None if not one with a zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, CommentedSeq)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, datetime):
        return value.isoformat()
    return "null" if value is None else str(value)


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes as JSON-ready values; YAML timestamps become RFC 3339 strings."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, datetime):
        return (node if node.tzinfo else node.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)
