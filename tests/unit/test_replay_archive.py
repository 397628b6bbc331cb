"""Archive readers: JSONL, gzip, CSV with its column mapping; streamed, never loaded whole."""

import gzip
import inspect
import json
from pathlib import Path

import pytest

from router.errors import InvalidMention
from router.mentions import decode_record
from router.replay.archive import ArchiveError, archive_format, read_archive, read_archives

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
HEADER = "id,source,text,created_at,lang,account,rating,author_handle,author_followers,author_verified,payload,note\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_yields_each_non_blank_line_with_its_file_and_line_number(tmp_path, mention_bytes):
    path = tmp_path / "a.jsonl"
    path.write_bytes(mention_bytes(id="m-1") + b"\n\n" + mention_bytes(id="m-2") + b"\r\n")
    records = list(read_archive(path))
    assert [json.loads(r.value)["id"] for r in records] == ["m-1", "m-2"]
    assert [(r.topic, r.offset) for r in records] == [(str(path), 1), (str(path), 3)]


def test_bad_lines_pass_through_as_bytes_for_the_pipeline_to_dead_letter(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "truncated\n\xff\xfe\n')
    assert [r.value for r in read_archive(path)] == [b'{"id": "truncated', b"\xff\xfe"]


def test_gzip_is_recognised_by_content_whatever_the_name(tmp_path, mention_bytes):
    for name in ("a.jsonl.gz", "renamed.jsonl"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(mention_bytes(id=name) + b"\n"))
        assert [json.loads(r.value)["id"] for r in read_archive(path)] == [name]


def test_format_comes_from_the_name():
    assert archive_format(Path("x.jsonl.gz")) == "jsonl"
    assert archive_format(Path("x.NDJSON")) == "jsonl"
    assert archive_format(Path("x.csv.gz")) == "csv"
    with pytest.raises(ArchiveError, match="unknown archive format"):
        archive_format(Path("x.parquet"))


def test_csv_columns_map_to_the_canonical_mention(tmp_path):
    path = write(tmp_path / "a.csv", HEADER + 'c-1,twitter,"Hello, ""world""\nsecond line",2026-12-01T10:00:00Z,en,'
                 "Hotel,4,sam,1200,TRUE,,kept\n")
    (record,) = read_archive(path)
    assert json.loads(record.value) == {
        "id": "c-1", "source": "twitter", "text": 'Hello, "world"\nsecond line', "created_at": "2026-12-01T10:00:00Z",
        "lang": "en", "account": "Hotel", "rating": 4, "note": "kept",
        "author": {"handle": "sam", "followers": 1200, "verified": True},
    }
    (mention,) = decode_record(record.value)
    assert mention.author.followers == 1200 and mention.model_extra == {"note": "kept"}


def test_csv_payload_column_holds_a_native_payload(tmp_path, payload):
    native = json.dumps(json.loads(payload("x_tweet.json"))).replace('"', '""')
    path = write(tmp_path / "a.csv", HEADER + f',,,,,,,,,,"{native}",\n')
    (record,) = read_archive(path)
    assert decode_record(record.value)[0].id == "1861234567890123456"


def test_csv_bad_cells_become_dead_letters_not_crashes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes((HEADER + "c-1,twitter,ok,,en,,,,,,,\nc-2,twitter,ok,2026-12-01T10:00:00Z,en,,five,,,,,\n"
                      ).encode() + b"c-3,twitter,caf\xe9,2026-12-01T10:00:00Z,en,,,,,,,\n")
    reasons = []
    for record in read_archive(path):
        with pytest.raises(InvalidMention) as error:
            decode_record(record.value)
        reasons.append(str(error.value))
    assert reasons[0].startswith("invalid mention: created_at")
    assert reasons[1].startswith("invalid mention: rating")
    assert reasons[2].startswith("invalid UTF-8")


def test_csv_records_are_numbered_by_the_line_where_the_row_ends(tmp_path):
    path = write(tmp_path / "a.csv", HEADER + 'c-1,twitter,"two\nlines",2026-12-01T10:00:00Z,,,,,,,,\n'
                 "c-2,twitter,one,2026-12-01T10:00:00Z,,,,,,,,\n")
    assert [r.offset for r in read_archive(path)] == [3, 4]


def test_empty_csv_is_an_archive_error(tmp_path):
    with pytest.raises(ArchiveError, match="header"):
        list(read_archive(write(tmp_path / "a.csv", "")))


def test_readers_are_generators_that_stream(tmp_path, mention_bytes):
    path = tmp_path / "big.jsonl"
    path.write_bytes((mention_bytes() + b"\n") * 5000)
    records = read_archives([path])
    assert inspect.isgenerator(records) and inspect.isgenerator(read_archive(path))
    first = next(records)  # reading one record does not read the rest
    assert json.loads(first.value)["id"] == "m-1"
    records.close()


def test_progress_is_told_the_bytes_consumed(tmp_path, mention_bytes):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.csv.gz"]
    paths[0].write_bytes((mention_bytes() + b"\n") * 2500)
    paths[1].write_bytes(gzip.compress((HEADER + "c-1,twitter,x,2026-12-01T10:00:00Z,,,,,,,,\n" * 10).encode()))
    seen: list[int] = []
    assert sum(1 for _ in read_archives(paths, seen.append)) == 2510
    assert seen == sorted(seen) and seen[-1] == sum(p.stat().st_size for p in paths)


def test_every_shipped_sample_reads(tmp_path):
    samples = sorted(SAMPLES.glob("*.jsonl")) + sorted(SAMPLES.glob("*.csv")) + sorted(SAMPLES.glob("*.gz"))
    assert {p.name for p in samples} >= {"twitter.jsonl", "facebook.jsonl", "tripadvisor.jsonl", "mixed.csv",
                                         "summer.jsonl.gz"}
    for path in samples:
        assert list(read_archive(path)), path
