"""`--out DIR`: every decision and dead letter written as it comes, then the summary and the reports."""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import orjson

from router.pipeline import DeadLettered, Outcome, dead_letter_document, decision_document
from router.replay import report


def dumps(document: dict) -> str:
    """Sorted keys and fixed separators: the same replay writes the same bytes."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def line(document: dict) -> bytes:
    """One JSONL line of `dumps`'s content, written by orjson, several times faster."""
    try:
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # what orjson does not write (integers beyond 64 bits): the standard library does
        return (dumps(document) + "\n").encode()


def outcome_line(outcome: Outcome) -> tuple[str, bytes]:
    """The stream an outcome goes to and its line there."""
    if isinstance(outcome, DeadLettered):
        return "dead-letters", line(dead_letter_document(outcome))
    return "decisions", line(decision_document(outcome))


class OutputDir:
    """Streams JSONL files into a directory; a context manager so that they are closed on errors too."""

    def __init__(self, directory: Path, streams: tuple[str, ...]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[bytes]] = {name: open(self.directory / f"{name}.jsonl", "wb") for name in streams}

    def __enter__(self) -> "OutputDir":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for file in self._files.values():
            file.close()

    def write(self, stream: str, document: dict) -> None:
        self._files[stream].write(line(document))

    def write_lines(self, stream: str, lines: Iterable[bytes]) -> None:
        """Lines made elsewhere (by `line`), in their order."""
        self._files[stream].writelines(lines)

    def outcome(self, outcome: Outcome) -> None:
        stream, text = outcome_line(outcome)
        self._files[stream].write(text)

    def finish(self, name: str, data: dict, markdown: str, html: str) -> list[Path]:
        """The JSON summary and both reports; returns the paths written."""
        paths = [self.directory / f"{name}.json", self.directory / "report.md", self.directory / "report.html"]
        for path, text in zip(paths, (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
                                      markdown, html)):
            path.write_text(text, encoding="utf-8")
        return paths


def summary_files(out: OutputDir, summary: dict, context: dict) -> list[Path]:
    return out.finish("summary", summary, report.summary_markdown(summary, context),
                      report.summary_html(summary, context))


def diff_files(out: OutputDir, diff: dict, context: dict) -> list[Path]:
    return out.finish("diff", diff, report.diff_markdown(diff, context), report.diff_html(diff, context))
