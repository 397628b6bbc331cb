"""A config file's text parsed with line numbers, and errors that point at a line."""

import difflib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from router.errors import ConfigError

# Configs and tests files are a few kilobytes; the limit keeps a wrong or hostile file from taking minutes to parse.
MAX_YAML_BYTES = 1024 * 1024
# Routes nest two levels each (`routes:`, then the route); no config comes near this, a recursion bomb would.
MAX_YAML_DEPTH = 100


class _BoundedComposer(Composer):
    """Refuses anchors and aliases, and nesting past MAX_YAML_DEPTH, with the line where they start.

    A few lines of nested aliases expand to billions of values ("billion laughs"), and deep nesting
    exhausts the recursion of whatever walks the tree.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent) or event.anchor is not None:
            found = ("*" if isinstance(event, AliasEvent) else "&") + str(event.anchor)
            raise ComposerError(None, None, f'anchors and aliases are not allowed (found "{found}"): '
                                            "write each value out", event.start_mark)
        if self.depth >= MAX_YAML_DEPTH:
            raise ComposerError(None, None, f"values nest more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        return super().compose_node(parent, index)


class YamlText:
    """One YAML file: its bytes, its parsed tree, and `error()` to blame one of its lines."""

    def __init__(self, path: str | Path, data: bytes):
        self.path = Path(path)
        self.data = data

    def error(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{line}: {message}")

    def parse(self) -> Any:
        if len(self.data) > MAX_YAML_BYTES:
            raise _too_big(self.path, len(self.data))
        # The round-trip loader keeps line numbers and never builds Python objects from tags.
        round_trip = YAML(typ="rt")
        round_trip.Composer = _BoundedComposer
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self.error(_line_at(self.data, error.start), "the file is not valid UTF-8") from None
        try:
            return round_trip.load(text)
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else 1
            raise self.error(line, f"invalid YAML: {error.problem or error.context}") from None
        except YAMLError as error:
            raise self.error(1, f"invalid YAML: {error}") from None


def read_yaml_text(path: str | Path) -> YamlText:
    """The one way a config or tests file is read: a file over MAX_YAML_BYTES is refused before it is read whole."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)  # not the size from stat: a pipe or a growing file has none
            if len(data) > MAX_YAML_BYTES:
                raise _too_big(path, max(os.fstat(file.fileno()).st_size, len(data)))
    except OSError as error:
        raise ConfigError(f"{path}:0: cannot read the file: {error.strerror}") from None
    return YamlText(path, data)


def _too_big(path: str | Path, size: int) -> ConfigError:
    return ConfigError(f"{path}:0: the file is {size} bytes, over the limit of {MAX_YAML_BYTES} bytes "
                       f"({MAX_YAML_BYTES // 1024 // 1024} MiB) for a config or tests file")


def line_of(node: Any, key: Any = None, default: int = 1) -> int:
    """1-based line of a mapping key (or a sequence index), or of the node itself."""
    try:
        if key is None:
            return node.lc.line + 1
        if isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        pass
    return default


def check_keys(src: YamlText, node: CommentedMap, subject: str, allowed: Iterable[str]) -> None:
    """Unknown keys are errors, with a suggestion when the key looks like a typo."""
    allowed = list(allowed)
    for key in node:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f'did you mean "{close[0]}"?' if close else "expected one of: " + ", ".join(allowed)
            raise src.error(line_of(node, key), f'{subject} has unknown key "{key}" ({hint})')


def require_keys(src: YamlText, node: CommentedMap, subject: str, required: Iterable[str]) -> None:
    for key in required:
        if key not in node:
            raise src.error(line_of(node), f'{subject} is missing the required key "{key}"')


def expect_mapping(src: YamlText, value: Any, line: int, what: str) -> CommentedMap:
    if not isinstance(value, CommentedMap):
        raise src.error(line, f"{what} must be a mapping of keys to values")
    return value


def expect_list(src: YamlText, value: Any, line: int, what: str) -> CommentedSeq:
    if not isinstance(value, CommentedSeq):
        raise src.error(line, f"{what} must be a list")
    return value


def expect_string(src: YamlText, value: Any, line: int, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise src.error(line, f"{what} must be a non-empty string, got {describe(value)}")
    return str(value)


def expect_strings(src: YamlText, value: Any, line: int, what: str) -> list[tuple[str, int]]:
    """A list of non-empty strings, each with its own line."""
    items = expect_list(src, value, line, what)
    return [(expect_string(src, item, line_of(items, i, line), f"each item of {what}"), line_of(items, i, line))
            for i, item in enumerate(items)]


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    return type(value).__name__


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
