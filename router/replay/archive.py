"""Streaming readers for mention archives: JSONL, CSV, either one gzipped; one raw record per line or row.

The records carry the bytes the worker would receive, so replay routes exactly what `--publish`
sends. The topic of a record is the archive's path and its offset the line (or row) number, so a
dead letter says where in which file it came from.

CSV: a header row, then one mention per row. Columns named after canonical fields are mapped to them:

    id, source, text, created_at, lang, account, business_unit, rating, thread_id, url  -> same field
    author_id, author_handle, author_followers, author_verified                         -> author.*

`rating` and `author_followers` become integers and `author_verified` a boolean (true/false, 1/0,
yes/no) when they read as such; otherwise the text is kept and validation dead-letters the row. An
empty cell is an absent field. Any other column is kept as an extra field of the mention (the
canonical schema keeps unknown fields). A non-empty `payload` cell holds a whole JSON payload,
canonical or native, and wins over the other columns of its row.
"""

import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from router.pipeline import Record

FORMATS = ("jsonl", "csv")
AUTHOR_COLUMNS = {"author_id": "id", "author_handle": "handle", "author_followers": "followers",
                  "author_verified": "verified"}
INTEGER_COLUMNS = frozenset({"rating", "author_followers"})
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
PAYLOAD_COLUMN = "payload"
GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_EVERY = 1000
READ_BYTES = 256 * 1024
# An archive as read: the file itself, or a gzip reader over it.
Binary = IO[bytes] | gzip.GzipFile
# csv's default field limit (128 KiB) is below what a record may legitimately hold with its payload.
csv.field_size_limit(16 * 1024 * 1024)


class ArchiveError(ValueError):
    """An archive that cannot be read at all (unknown format, missing header); not a bad line."""


def archive_format(path: Path) -> str:
    """`jsonl` or `csv`, from the name: .jsonl/.ndjson/.json or .csv, optionally followed by .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last == ".csv":
        return "csv"
    raise ArchiveError(f"{path}: unknown archive format (expected .jsonl, .ndjson or .csv, optionally .gz)")


def read_archives(paths: Iterable[Path], progress: Callable[[int], None] | None = None) -> Iterator[Record]:
    """Every record of every archive, in order, one at a time.

    `progress`, when given, is told now and then how many bytes of the files have been consumed.
    """
    done = 0
    for path in map(Path, paths):
        with open(path, "rb") as raw:
            for count, record in enumerate(read_stream(raw, path), start=1):
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(done + raw.tell())
                yield record
            done += raw.tell()
        if progress is not None:
            progress(done)


def read_archive(path: Path) -> Iterator[Record]:
    """Every record of one archive."""
    with open(path, "rb") as raw:
        yield from read_stream(raw, Path(path))


def read_stream(raw: IO[bytes], path: Path) -> Iterator[Record]:
    """The records of an open archive file; the format comes from the name, gzip from the content."""
    reader = _read_csv if archive_format(path) == "csv" else _read_jsonl
    # Sniff the gzip magic rather than trusting the name: a renamed file still reads.
    compressed = raw.peek(2)[:2] == GZIP_MAGIC if isinstance(raw, io.BufferedReader) else False
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
    yield from reader(stream, str(path))


def _read_jsonl(stream: Binary, name: str) -> Iterator[Record]:
    number = 0
    for lines in _line_blocks(stream):
        for line in lines:
            number += 1
            value = line.rstrip(b"\r\n")
            if value and not value.isspace():  # blank lines separate nothing; they are not records
                yield Record(value, None, name, -1, number)


def _line_blocks(stream: Binary) -> Iterator[list[bytes]]:
    """The stream's lines without their newline, a block at a time: one split in C, not one call per line."""
    head: list[bytes] = []  # the start of the next line, in pieces: a line longer than a block is joined once
    while block := stream.read(READ_BYTES):
        lines = block.split(b"\n")
        if len(lines) == 1:
            head.append(block)
            continue
        if head:
            lines[0] = b"".join([*head, lines[0]])
        head = [lines.pop()]
        yield lines
    if rest := b"".join(head):
        yield [rest]


def _read_csv(stream: Binary, name: str) -> Iterator[Record]:
    # surrogateescape keeps undecodable bytes, so such a row dead-letters as invalid UTF-8 downstream.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        rows = csv.DictReader(text, restkey="extra_cells")
        if not rows.fieldnames:
            raise ArchiveError(f"{name}: empty CSV, expected a header row")
        for row in rows:
            yield Record(csv_row_to_value(row), topic=name, offset=rows.line_num)
    finally:
        text.detach()  # the caller owns the file; a collected wrapper would close it


def csv_row_to_value(row: dict[str, Any]) -> bytes:
    """The record bytes of one CSV row: its `payload` cell, or a canonical mention built from its columns."""
    payload = row.get(PAYLOAD_COLUMN)
    if payload:
        return payload.encode("utf-8", "surrogateescape")
    mention: dict[str, Any] = {}
    author: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or column == PAYLOAD_COLUMN or cell in (None, "", []):
            continue
        value = _typed(column, cell)
        if column in AUTHOR_COLUMNS:
            author[AUTHOR_COLUMNS[column]] = value
        else:
            mention[column] = value
    if author:
        mention["author"] = author
    return json.dumps(mention, ensure_ascii=False).encode("utf-8", "surrogateescape")


def _typed(column: str, cell: Any) -> Any:
    if column in INTEGER_COLUMNS and isinstance(cell, str) and cell.strip().lstrip("-").isdigit():
        return int(cell)
    if column == "author_verified" and isinstance(cell, str):
        return BOOLEANS.get(cell.strip().lower(), cell)
    return cell


def archive_sizes(paths: Iterable[Path]) -> int:
    """Total bytes on disk, for a progress bar that can say how far it is."""
    return sum(os.path.getsize(p) for p in paths)
