"""Markdown and self-contained HTML reports of a replay or of a diff, from their JSON summaries."""

from datetime import date, datetime, timedelta
from html import escape

from router.replay import charts
from router.replay.diff import DIMENSIONS

TABLES = (  # (summary key, section title, first column, what shares are of)
    ("by_owner", "Volume per owning department", "owner", "routed"),
    ("by_queue", "Load per queue", "queue", "routed"),
    ("by_label", "Label mix", "label", "routed"),
    ("by_route", "Routes taken", "route", "routed"),
    ("by_priority", "Priorities", "priority", "routed"),
    ("by_source", "Sources", "source", "routed"),
    ("by_tag", "Tags", "tag", "routed"),
    ("low_confidence_by_label", "Low-confidence triage by label", "label", "routed"),
    ("dead_letter_reasons", "Dead letters by reason", "reason", "read"),
)
MAX_TIMELINE_DAYS = 400
STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:800px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}
figcaption{font-weight:600;margin-bottom:.3em}svg text{font:12px system-ui,sans-serif;fill:#222}
svg text.tick{font-size:10px}.kpi{display:flex;gap:1.5em;flex-wrap:wrap}
.kpi div{background:#f4f6f8;padding:.5em 1em;border-radius:4px}.kpi b{display:block;font-size:1.4em}
code{background:#f4f6f8;padding:0 3px}"""


def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Largest first, ties by name: a stable order for every table and chart."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def timeline(by_day: dict[str, int]) -> tuple[list[tuple[str, int]], str]:
    """Every day from the first to the last, quiet days included; by month when that spans over a year."""
    if not by_day:
        return [], "Timeline"
    first, last = date.fromisoformat(min(by_day)), date.fromisoformat(max(by_day))
    days = [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    if len(days) <= MAX_TIMELINE_DAYS:
        return [(day, by_day.get(day, 0)) for day in days], "Timeline: mentions routed per day (UTC)"
    months: dict[str, int] = dict.fromkeys(sorted({day[:7] for day in days}), 0)
    for day, count in by_day.items():
        months[day[:7]] += count
    return list(months.items()), "Timeline: mentions routed per month (UTC)"


def incident_marks(incidents: list[dict], days: list[tuple[str, int]]) -> list[tuple[int, int, str]]:
    """Where each incident falls on a timeline of days (or months): first and last column, and what it was."""
    if not days:
        return []
    names = [name for name, _ in days]
    width = len(names[0])  # 10 for days, 7 for months
    marks = []
    for row in incidents:
        first = row["opened_at"][:width]
        last = (row["resolved_at"] or names[-1])[:width]
        if first in names:
            last_index = names.index(last) if last in names else len(names) - 1
            marks.append((names.index(first), last_index, f"incident {row['incident_id']} ({row['scope']})"))
    return marks


def incident_rows(incidents: list[dict]) -> list[tuple]:
    """The incidents as table rows: id, scope, what opened it, when it opened and resolved, peak, baseline."""
    return [(row["incident_id"], row["scope"], row["trigger"], row["opened_at"], row["resolved_at"] or "still open",
             row["count"], f"{row['baseline']:g}", row["mentions"], ", ".join(row["top_terms"])) for row in incidents]


INCIDENT_COLUMNS = ["incident", "scope", "trigger", "opened", "resolved", "peak", "baseline", "mentions", "top terms"]


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def dimensions(diff: dict) -> str:
    """`owner, queues or priority`: what a diff compared."""
    *first, last = diff["by_dimension"]
    return f"{', '.join(first)} or {last}" if first else last


# ---------------------------------------------------------------- Markdown


def summary_markdown(summary: dict, context: dict) -> str:
    lines = ["# Replay report", "", *_context_md(context), "", *_figures_md(summary)]
    for key, title, column, whole in TABLES:
        lines += ["", f"## {title}", "", *_table_md(column, ranked(summary[key]), summary[whole])]
    lines += ["", "## Confidence distribution", "", *_table_md("confidence", list(summary["confidence"].items()),
                                                              summary["routed"])]
    lines += ["", "## Timeline (mentions routed per day, UTC)", "",
              *_table_md("day", list(summary["by_day"].items()), summary["routed"])]
    lines += ["", "## Incidents", "", *_incidents_md(summary["incidents"], summary["incident_records_by_queue"])]
    return "\n".join(lines) + "\n"


def _incidents_md(incidents: list[dict], records: dict[str, int]) -> list[str]:
    if not incidents:
        return ["(none)"]
    rows = ["| " + " | ".join(INCIDENT_COLUMNS) + " |", "|" + "---|" * len(INCIDENT_COLUMNS)]
    rows += ["| " + " | ".join(_cell(str(value)) for value in row) + " |" for row in incident_rows(incidents)]
    return rows + ["", "Incident records delivered: " + ", ".join(f"{_cell(q)} {n}" for q, n in records.items())]


def diff_markdown(diff: dict, context: dict) -> str:
    compared = diff["compared"]
    lines = ["# Replay diff", "", *_context_md(context), "", "| | |", "|---|---:|",
             f"| mentions read | {diff['read']} |", f"| routed and compared | {compared} |",
             f"| dead-lettered | {diff['dead_lettered']} |",
             f"| changed ({dimensions(diff)}) | {diff['changed']} ({percent(diff['changed'], compared)}) |",
             *(f"| {name} changed | {count} ({percent(count, compared)}) |"
               for name, count in diff["by_dimension"].items()),
             f"| label changed | {diff['label_changed']} |",
             f"| incidents | {_incident_change(diff['incidents'])} |"]
    triage = diff["triage"]
    lines += ["", "## Triage (low confidence)", "", "| before | after | change | entered | left |",
              "|---:|---:|---:|---:|---:|",
              f"| {triage['before']} | {triage['after']} | {triage['delta']:+d} | {triage['entered']} "
              f"| {triage['left']} |"]
    lines += ["", "## Load change per queue", "", "| queue | before | after | change |", "|---|---:|---:|---:|"]
    lines += [f"| {_cell(q)} | {d['before']} | {d['after']} | {d['delta']:+d} |" for q, d in diff["load"].items()]
    lines += ["", "## Owner moves", "", *_table_md("before -> after", ranked(diff["owner_moves"]), compared)]
    lines += ["", f"## Examples (first {len(diff['examples'])} changed mentions)", ""]
    lines += _examples_md(diff["examples"])
    return "\n".join(lines) + "\n"


def _incident_change(incidents: dict) -> str:
    return (f"{incidents['before']} -> {incidents['after']} ({len(incidents['only_before'])} only before, "
            f"{len(incidents['only_after'])} only after, {len(incidents['changed'])} changed)")


def _context_md(context: dict) -> list[str]:
    return [f"- {name}: {', '.join(f'`{v}`' for v in _values(value))}" for name, value in context.items() if value]


def _figures_md(s: dict) -> list[str]:
    return ["| | |", "|---|---:|", f"| mentions read | {s['read']} |", f"| archive records | {s['records']} |",
            f"| routed | {s['routed']} |", f"| dead-lettered | {s['dead_lettered']} |",
            f"| low-confidence triage | {s['low_confidence']} ({percent(s['low_confidence'], s['routed'])}) |",
            f"| config hash | `{s['config_hash']}` |", f"| model version | `{s['model_version']}` |"]


def _table_md(column: str, rows: list[tuple[str, int]], total: int) -> list[str]:
    if not rows:
        return ["(none)"]
    return [f"| {column} | mentions | share |", "|---|---:|---:|",
            *(f"| {_cell(name)} | {count} | {percent(count, total)} |" for name, count in rows)]


def _examples_md(examples: list[dict]) -> list[str]:
    if not examples:
        return ["(none)"]
    rows = ["| mention | changed | before | after | text |", "|---|---|---|---|---|"]
    for e in examples:
        rows.append(f"| {_cell(e['mention_id'])} | {', '.join(e['changed'])} | {_cell(_side(e['before']))} "
                    f"| {_cell(_side(e['after']))} | {_cell(e['text'])} |")
    return rows


def _side(side: dict) -> str:
    extra = "".join(f" {d.name} {side[d.name]}" for d in DIMENSIONS if d.optional and d.name in side)
    return f"{side['owner']} {side['priority']} [{', '.join(side['queues'])}]{extra} ({side['label']})"


def _cell(text: str) -> str:
    """Text as one table cell, shown as written: Markdown renders raw HTML, so no tag or entity may open."""
    # `>` alone opens nothing: it stays, so that `a -> b` reads as written in the file too.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|").replace("\n", " ")


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- HTML


def summary_html(summary: dict, context: dict) -> str:
    s = summary
    body = [
        "<h1>Replay report</h1>", _context_html(context),
        _kpis([("mentions read", s["read"]), ("routed", s["routed"]), ("dead-lettered", s["dead_lettered"]),
               ("low-confidence triage", s["low_confidence"])]),
        f"<p>config <code>{escape(str(s['config_hash']))}</code>, model <code>{escape(str(s['model_version']))}</code>"
        f", {s['records']} archive records.</p>",
        charts.bar_chart(ranked(s["by_owner"]), "Volume per owning department"),
        charts.bar_chart(ranked(s["by_queue"]), "Load per queue"),
        charts.stacked_bar(ranked(s["by_label"]), "Label mix"),
        charts.column_chart(list(s["confidence"].items()), "Confidence distribution"),
        _timeline_html(s),
    ]
    for key, title, column, whole in TABLES:
        body.append(f"<h2>{escape(title)}</h2>" + _table_html([column, "mentions", "share"],
                    [(n, c, percent(c, s[whole])) for n, c in ranked(s[key])]))
    body.append("<h2>Incidents</h2>" + _table_html(INCIDENT_COLUMNS, incident_rows(s["incidents"])))
    return _page("Replay report", body)


def _timeline_html(s: dict) -> str:
    """Mentions per day with the incidents shaded on it, then the incidents alone, to the minute."""
    days, title = timeline(s["by_day"])
    incidents = s["incidents"]
    if incidents:
        title += ", incidents shaded"
    spans = [(f"{row['scope']} ({row['trigger']})", datetime.fromisoformat(row["opened_at"]),
              datetime.fromisoformat(row["resolved_at"] or row["opened_at"]), row["resolved_at"] is not None)
             for row in incidents]
    chart = charts.column_chart(days, title, marks=incident_marks(incidents, days))
    return chart + (charts.span_chart(spans, "Incidents: opened to resolved (UTC)") if spans else "")


def diff_html(diff: dict, context: dict) -> str:
    d, compared, triage = diff, diff["compared"], diff["triage"]
    body = [
        "<h1>Replay diff</h1>", _context_html(context),
        _kpis([("mentions read", d["read"]), ("compared", compared),
               ("changed", f"{d['changed']} ({percent(d['changed'], compared)})"),
               ("owner changed", f"{d['by_dimension']['owner']} ({percent(d['by_dimension']['owner'], compared)})"),
               ("triage", f"{triage['before']} → {triage['after']} ({triage['delta']:+d})")]),
        charts.paired_bars([(q, v["before"], v["after"]) for q, v in d["load"].items()], "Load change per queue"),
        "<h2>What changed</h2>" + _table_html(["change", "mentions"], [
            *d["by_dimension"].items(), ("label", d["label_changed"]), ("entered triage", triage["entered"]),
            ("left triage", triage["left"])]),
        "<h2>Owner moves</h2>" + _table_html(["before → after", "mentions"], ranked(d["owner_moves"])),
        f"<h2>Incidents</h2><p>{escape(_incident_change(d['incidents']))}</p>",
        f"<h2>Examples (first {len(d['examples'])} changed mentions)</h2>" + _table_html(
            ["mention", "changed", "before", "after", "text"],
            [(e["mention_id"], ", ".join(e["changed"]), _side(e["before"]), _side(e["after"]), e["text"])
             for e in d["examples"]]),
    ]
    return _page("Replay diff", body)


def _context_html(context: dict) -> str:
    items = "".join(f"<li>{escape(name)}: {', '.join(f'<code>{escape(str(v))}</code>' for v in _values(value))}</li>"
                    for name, value in context.items() if value)
    return f"<ul>{items}</ul>"


def _kpis(figures: list[tuple[str, object]]) -> str:
    cards = "".join(f"<div><b>{escape(str(value))}</b>{escape(name)}</div>" for name, value in figures)
    return f'<div class="kpi">{cards}</div>'


def _table_html(header: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "<p>(none)</p>"
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(header))]
    head = "".join(f'<th{" class=n" if n else ""}>{escape(h)}</th>' for h, n in zip(header, numeric))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if n else ""}>{escape(str(v))}</td>' for v, n in zip(row, numeric))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ---------------------------------------------------------------- terminal text


def summary_text(s: dict) -> str:
    lines = [f"mentions read    {s['read']:>9}   ({s['records']} archive records)",
             f"routed           {s['routed']:>9}",
             f"dead-lettered    {s['dead_lettered']:>9}",
             *(f"  {count:>9}  {name}" for name, count in ranked(s["dead_letter_reasons"])),
             f"low confidence   {s['low_confidence']:>9}   ({percent(s['low_confidence'], s['routed'])} "
             "of routed, triage)",
             f"config {s['config_hash']}   model {s['model_version']}"]
    for key, title in (("by_label", "per label"), ("by_owner", "per owner"), ("by_queue", "per queue"),
                       ("by_route", "per route"), ("low_confidence_by_label", "low confidence (triage) per label")):
        lines += ["", title, *_text_rows(ranked(s[key]), s["routed"])]
    lines += ["", "incidents"]
    lines += [f"  {row[0]}  {row[1]}  {row[2]}, opened {row[3]}, resolved {row[4]}, peak {row[5]} "
              f"(baseline {row[6]}), {row[7]} mentions" for row in incident_rows(s["incidents"])] or ["  (none)"]
    return "\n".join(lines) + "\n"


def diff_text(d: dict) -> str:
    compared, triage = d["compared"], d["triage"]
    lines = [f"mentions read    {d['read']:>9}   ({d['compared']} routed and compared, "
             f"{d['dead_lettered']} dead-lettered)",
             f"changed          {d['changed']:>9}   ({percent(d['changed'], compared)}: {dimensions(d)})",
             *(f"{name + ' changed':<17}{count:>9}   ({percent(count, compared)})"
               for name, count in d["by_dimension"].items()),
             f"label changed    {d['label_changed']:>9}",
             f"incidents        {_incident_change(d['incidents'])}",
             f"triage           {triage['before']} -> {triage['after']} ({triage['delta']:+d}; "
             f"{triage['entered']} entered, {triage['left']} left)",
             "", "load change per queue"]
    lines += [f"  {q:<40} {v['before']:>8} -> {v['after']:<8} {v['delta']:+d}" for q, v in d["load"].items()
              if v["delta"]] or ["  (none)"]
    lines += ["", "owner moves", *_text_rows(ranked(d["owner_moves"]), compared)]
    lines += ["", f"examples (first {len(d['examples'])})"]
    for e in d["examples"]:
        lines.append(f"  {e['mention_id']}: {_side(e['before'])}  ->  {_side(e['after'])}")
    return "\n".join(lines) + "\n"


def _text_rows(rows: list[tuple[str, int]], total: int) -> list[str]:
    width = max((len(name) for name, _ in rows), default=0)
    return [f"  {name:<{width}}  {count:>9}  {percent(count, total):>6}" for name, count in rows] or ["  (none)"]
