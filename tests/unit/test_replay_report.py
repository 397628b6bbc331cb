"""Reports (Markdown, HTML with inline SVG), the progress line and the publishing pace."""

import io
import json
import xml.dom.minidom

from router.pipeline import Record
from router.replay import charts, report
from router.replay.diff import incident_changes
from router.replay.pacing import OriginalPace, keyed
from router.replay.progress import Progress
from router.replay.summary import Summary

EXAMPLE = {"mention_id": "m-<1>", "source": "twitter", "created_at": "2026-12-01T10:00:00+00:00",
           "text": "<script>alert(1)</script> | pipe &amp;", "changed": ["owner"],
           "before": {"label": "complaint", "confidence": 0.9, "low_confidence": False, "owner": "customer_service",
                      "queues": ["q.cs"], "priority": "normal", "route": "root/complaint"},
           "after": {"label": "complaint", "confidence": 0.9, "low_confidence": False, "owner": "marketing",
                     "queues": ["q.marketing"], "priority": "normal", "route": "root"}}


def summary(**overrides) -> dict:
    data = Summary().as_dict()
    data.update(read=12, records=11, routed=10, dead_lettered=2, low_confidence=3, config_hash="sha256:abc",
                model_version="m-1", by_owner={"sales": 7, "customer_service": 3}, by_queue={"q.sales": 7, "q.cs": 3},
                by_label={"sales_lead": 7, "complaint": 3}, by_day={"2026-12-01": 4, "2026-12-03": 6},
                dead_letter_reasons={"invalid JSON": 2}, low_confidence_by_label={"complaint": 3})
    data.update(overrides)
    return data


def diff() -> dict:
    return {"read": 12, "records": 11, "routed": 10, "dead_lettered": 2, "compared": 10, "changed": 4,
            "changed_share": 0.4, "by_dimension": {"owner": 3, "queues": 3, "priority": 1},
            "label_changed": 0, "owner_moves": {"customer_service -> marketing": 3},
            "by_queue_delta": {"q.cs": -3, "q.marketing": 3},
            "load": {"q.cs": {"before": 3, "after": 0, "delta": -3},
                     "q.marketing": {"before": 0, "after": 3, "delta": 3}},
            "triage": {"before": 1, "after": 2, "delta": 1, "entered": 1, "left": 0}, "examples": [EXAMPLE],
            "incidents": incident_changes([], []), "before": summary(), "after": summary()}


def test_markdown_summary_has_the_figures():
    text = report.summary_markdown(summary(), {"archives": ["a.jsonl"], "config": "c.yaml"})
    assert "| mentions read | 12 |" in text and "| dead-lettered | 2 |" in text
    assert "| sales | 7 | 70.0% |" in text and "| invalid JSON | 2 | 16.7% |" in text  # dead letters: share of read
    assert "| 2026-12-02 |" not in text  # the table lists days seen; the chart fills the gaps
    assert "- archives: `a.jsonl`" in text


def test_html_summary_is_self_contained_with_charts():
    html = report.summary_html(summary(), {"archives": ["a.jsonl"]})
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert html.count("<svg") == 5 and "Volume per owning department" in html and "<b>10</b>routed" in html
    for svg in html.split("<svg")[1:]:
        xml.dom.minidom.parseString("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed


def test_diff_reports_escape_mention_text():
    html = report.diff_html(diff(), {})
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "q.cs: 3" in html and "<b>4 (40.0%)</b>changed" in html
    markdown = report.diff_markdown(diff(), {})
    assert "<script" not in markdown and "| &lt;script>alert(1)&lt;/script> \\| pipe &amp;amp; |" in markdown
    assert "| m-&lt;1> |" in markdown
    assert "| q.marketing | 0 | 3 | +3 |" in markdown and "| queues changed | 3 (30.0%) |" in markdown
    assert "| customer_service -> marketing | 3 | 30.0% |" in markdown


def test_timeline_fills_quiet_days_and_switches_to_months():
    days, title = report.timeline({"2026-12-01": 4, "2026-12-03": 6})
    assert days == [("2026-12-01", 4), ("2026-12-02", 0), ("2026-12-03", 6)] and "per day" in title
    months, title = report.timeline({"2025-01-15": 1, "2026-12-03": 2})
    assert len(months) == 24 and months[0] == ("2025-01", 1) and months[-1] == ("2026-12", 2) and "month" in title


def test_charts_without_data_say_so():
    assert "nothing to show" in charts.bar_chart([], "x") and "nothing to show" in charts.stacked_bar([], "x")


def test_progress_draws_only_on_a_terminal():
    quiet = io.StringIO()
    with Progress(100, quiet) as progress:
        progress.bytes_read(50)
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    with Progress(100, shown, force=True) as progress:
        progress.mention()
        progress.bytes_read(100)
    assert "100.0%" in shown.getvalue() and "1 mentions" in shown.getvalue()


def test_original_pace_follows_created_at_gaps_sped_up(mention_bytes):
    pace = OriginalPace(speed=60)
    times = ["2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z", "2026-12-01T10:00:30Z", None, "2026-12-01T11:00:00Z"]
    values = [mention_bytes(created_at=t) for t in times]
    # One minute later at 60x is one second; an older or undated record is due at once, never earlier.
    assert [pace(v) for v in values] == [0.0, 1.0, 1.0, 1.0, 60.0]


def test_publish_keys_records_by_thread(mention_bytes):
    records = [Record(mention_bytes(id="m-1", thread_id="t-9")), Record(mention_bytes(id="m-2")), Record(b"{")]
    assert [key for key, _ in keyed(records)] == [b"t-9", b"m-2", None]
    assert json.loads(next(keyed(records))[1])["id"] == "m-1"


def test_incidents_are_shaded_on_the_timeline_drawn_on_a_time_axis_and_listed():
    rows = [{"incident_id": "inc-<1>", "scope": "brand:<b>", "trigger": "spike", "opened_at": "2026-12-01T10:00:00+00:00",
             "resolved_at": "2026-12-02T12:00:00+00:00", "count": 12, "baseline": 0.5, "mentions": 30,
             "top_terms": ["fever"]},
            {"incident_id": "inc-2", "scope": "topic:#x", "trigger": "influencer",
             "opened_at": "2026-12-03T09:00:00+00:00", "resolved_at": None, "count": 1, "baseline": 0.0,
             "mentions": 1, "top_terms": []}]
    data = summary(incidents=rows, incident_records_by_queue={"q.pa": 3})
    html = report.summary_html(data, {})
    assert html.count("<svg") == 6 and "Incidents: opened to resolved (UTC)" in html
    for svg in html.split("<svg")[1:]:
        xml.dom.minidom.parseString("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed, names escaped
    assert report.incident_marks(rows, report.timeline(data["by_day"])[0]) == [
        (0, 1, "incident inc-<1> (brand:<b>)"), (2, 2, "incident inc-2 (topic:#x)")]
    markdown = report.summary_markdown(data, {})
    assert "| inc-&lt;1> | brand:&lt;b> | spike | 2026-12-01T10:00:00+00:00 | 2026-12-02T12:00:00+00:00 | 12 |" in markdown
    assert "| inc-2 | topic:#x | influencer | 2026-12-03T09:00:00+00:00 | still open |" in markdown
    assert "Incident records delivered: q.pa 3" in markdown
    assert "inc-2  topic:#x  influencer, opened 2026-12-03T09:00:00+00:00, resolved still open" in report.summary_text(
        data)
