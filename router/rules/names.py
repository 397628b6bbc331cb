"""The names a config gives: Kafka topics, and the names of departments, business units and routes."""

from typing import Any

from router.rules.yamltext import YamlText, describe

_TOPIC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def expect_topic(src: YamlText, value: Any, line: int) -> str:
    ok = (isinstance(value, str) and 0 < len(value) <= 249 and value not in (".", "..")
          and all(ch in _TOPIC_CHARS for ch in value))
    if not ok:
        raise src.error(line, f"invalid Kafka topic name {describe(value)}: "
                              'use 1 to 249 letters, digits, ".", "_" or "-"')
    return value


def check_name(src: YamlText, name: Any, line: int, what: str) -> None:
    if not isinstance(name, str) or not name or not all(ch in _NAME_CHARS for ch in name):
        raise src.error(line, f'invalid {what} name {describe(name)}: use letters, digits, "_", "-" or "."')
