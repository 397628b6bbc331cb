"""`evaluate --corrections`: per week of correction, how many and the share right, now and when they were routed."""

import json
from datetime import datetime

import pytest

from router.classify.training.overtime import Corrected, over_time, read_corrected
from router.cli import main
from router.errors import InvalidMention


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_corrections_are_counted_per_iso_week_in_utc_with_the_share_each_model_got_right():
    corrected = [Corrected(at("2026-11-23T09:00:00+00:00"), "other"),   # Monday of week 48
                 Corrected(at("2026-11-29T23:30:00+00:00"), "other"),   # its Sunday
                 Corrected(at("2026-11-30T00:30:00+01:00"), "complaint"),  # Sunday 23:30 UTC: still week 48
                 Corrected(at("2026-12-01T10:00:00+00:00"), None)]     # week 49; what routed it is unknown
    gold = ["complaint", "complaint", "complaint", "sales_lead"]
    predicted = ["complaint", "other", "complaint", "sales_lead"]

    result = over_time(corrected, gold, predicted, "m-2")

    assert result == {
        "model": "m-2", "corrections": 4, "model_right": 0.75, "routing_model_right": pytest.approx(1 / 3),
        "weeks": [
            {"week": "2026-W48", "from": "2026-11-23", "corrections": 3, "model_right": pytest.approx(2 / 3),
             "routing_model_right": pytest.approx(1 / 3)},
            {"week": "2026-W49", "from": "2026-11-30", "corrections": 1, "model_right": 1.0,
             "routing_model_right": None},
        ],
    }


def test_a_year_boundary_names_the_iso_year():
    result = over_time([Corrected(at("2027-01-01T12:00:00+00:00"), "other")], ["other"], ["other"], "m")
    assert [(row["week"], row["from"]) for row in result["weeks"]] == [("2026-W53", "2026-12-28")]


def write(path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


LINE = {"mention_id": "tw-1", "text": "my flight was cancelled and nobody answers, refund me now", "label": "complaint",
        "provenance": "correction", "by": "alice", "at": "2026-11-24T10:00:00Z", "predicted_label": "other",
        "confidence": 0.57}


@pytest.mark.parametrize(("change", "message"), [
    ({"at": None}, r"corrections.jsonl:2: a correction needs `at`, an ISO-8601 time with its zone"),
    ({"at": "yesterday"}, r"corrections.jsonl:2: a correction needs `at`"),
    ({"at": "2026-11-24T10:00:00"}, r"corrections.jsonl:2: `at` has no time zone"),
])
def test_a_line_without_a_usable_time_names_its_file_and_line(tmp_path, change, message):
    path = tmp_path / "corrections.jsonl"
    write(path, [LINE, {key: value for key, value in {**LINE, **change}.items() if value is not None}])
    with pytest.raises(InvalidMention, match=message):
        read_corrected(path)


def test_evaluate_scores_the_model_on_the_corrections_of_each_week(tmp_path, capsys):
    path = tmp_path / "corrections.jsonl"
    hiring = {**LINE, "mention_id": "tw-2", "text": "Are you hiring? I'd love to apply for a summer job",
              "label": "recruitment", "at": "2026-12-02T08:00:00Z", "predicted_label": "recruitment"}
    write(path, [LINE, hiring])

    assert main(["evaluate", "--corrections", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["corrections"]
    assert [(row["week"], row["corrections"], row["model_right"], row["routing_model_right"])
            for row in result["weeks"]] == [("2026-W48", 1, 1.0, 0.0), ("2026-W49", 1, 1.0, 1.0)]

    assert main(["evaluate", "--corrections", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[2].split() == ["2026-W48", "2026-11-23", "1", "1.000", "0.000"]
    assert table[-1].split() == ["all", "2", "1.000", "0.500"]


def test_evaluate_gives_the_data_table_and_the_corrections_table_together(tmp_path, capsys):
    path = tmp_path / "corrections.jsonl"
    write(path, [LINE])
    assert main(["evaluate", "--data", str(path), "--corrections", str(path)]) == 0
    out = capsys.readouterr().out
    assert "macro_f1=" in out and "corrections by week" in out


@pytest.mark.parametrize(("argv", "message"), [
    ([], "give --data, --corrections or both"),
    (["--data", "x.jsonl", "--cv", "3", "--corrections", "x.jsonl"], "cannot be combined with --model or --corrections"),
])
def test_evaluate_refuses_what_it_cannot_do(argv, message, capsys):
    assert main(["evaluate", *argv]) == 2
    assert message in capsys.readouterr().err
