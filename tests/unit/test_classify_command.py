"""`inbox-router classify`: JSONL in, one JSON line per mention out, bad lines reported and skipped."""

import io
import json
from pathlib import Path

from router.classify.labels import LABELS
from router.classify.model import Classifier
from router.cli import main
from router.commands.classify import classify_stream
from router.pipeline import Router
from router.rules import load_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "router.yaml"


def _mention(id_: str, text: str) -> str:
    return json.dumps({"id": id_, "source": "twitter", "text": text, "created_at": "2026-11-20T10:00:00Z"})


def _run(lines: list[str]) -> list[dict]:
    out = io.StringIO()
    classify_stream(Router(Classifier.load(), load_config(CONFIG)), io.BytesIO("\n".join(lines).encode() + b"\n"), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_line_per_mention_with_scores():
    rows = _run([_mention("a", "@SkyLineAir you lost my bag, worst service ever"),
                 _mention("b", "thanks, great flight!")])
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["label"] == "complaint"
    for row in rows:
        assert set(row) >= {"id", "label", "confidence", "scores"}
        assert set(row["scores"]) == set(LABELS)
        assert row["confidence"] == max(row["scores"].values())
        assert isinstance(row["low_confidence"], bool)


def test_invalid_lines_are_reported_and_the_command_goes_on():
    rows = _run([_mention("a", "hello"), "{not json", "", json.dumps({"id": "x"}), _mention("b", "bonjour")])
    assert rows[0]["id"] == "a"
    assert rows[1]["line"] == 2 and "invalid JSON" in rows[1]["error"]
    assert rows[2]["line"] == 4 and "error" in rows[2]
    assert rows[3]["id"] == "b"


def test_native_payloads_are_classified(payload):
    rows = _run([json.dumps(json.loads(payload(name))) for name in
                 ("x_tweet.json", "tripadvisor_review.json", "facebook_comment_webhook.json", "linkedin_comment.json")])
    assert len(rows) >= 4
    assert all("label" in row and row["label"] in LABELS for row in rows)


def test_command_reads_a_file(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text(_mention("m1", "are you hiring interns this summer?") + "\n", encoding="utf-8")
    assert main(["classify", str(path)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["id"] == "m1" and row["label"] == "recruitment"


def test_command_refuses_a_missing_model(tmp_path, capsys):
    assert main(["classify", "--model", str(tmp_path), str(tmp_path / "none.jsonl")]) == 2
    assert "manifest.json is missing" in capsys.readouterr().err
