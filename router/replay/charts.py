"""Inline SVG charts for the HTML report: no script, no external asset, readable without a network."""

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH = 720
BAR_HEIGHT = 22
LABEL_WIDTH = 300
TICK_PIXELS = 72  # room for one x label such as 2026-12-05
PALETTE = ("#3b6ea8", "#d9822b", "#3a9a5b", "#c23b3b", "#7d5ba6", "#8c6d4f", "#c75d9e", "#6f7c85", "#a8a23b",
           "#2f9aa8")
BEFORE, AFTER = "#9aa5b1", "#3b6ea8"
INCIDENT = "#c23b3b"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def bar_chart(items: list[tuple[str, int]], title: str) -> str:
    """Horizontal bars, one per item, labelled with the name and the count."""
    if not items:
        return _empty(title)
    top = max(count for _, count in items) or 1
    span = WIDTH - LABEL_WIDTH - 70
    rows = []
    for index, (name, count) in enumerate(items):
        y = index * BAR_HEIGHT
        length = max(count / top * span, 1 if count else 0)
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(_short(name))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{BAR_HEIGHT - 6}" '
            f'fill="{colour(index)}"><title>{escape(name)}: {count}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{count}</text>'
        )
    return _svg(title, len(items) * BAR_HEIGHT, "".join(rows))


def column_chart(items: list[tuple[str, int]], title: str, height: int = 180,
                 marks: Sequence[tuple[int, int, str]] = ()) -> str:
    """Vertical columns in the given order (bins, days); some x labels are skipped when crowded.

    `marks` shade the columns from one index to another behind them, each with its title (incidents on a timeline).
    """
    if not items:
        return _empty(title)
    top = max(count for _, count in items) or 1
    left, right, plot = 40, 36, height - 40  # margins leave room for the first and last x labels
    step = (WIDTH - left - right) / len(items)
    every = max(1, math.ceil(len(items) * TICK_PIXELS / (WIDTH - left - right)))
    parts = [f'<rect x="{left + first * step:.1f}" y="0" width="{(last - first + 1) * step:.1f}" height="{plot}" '
             f'fill="{INCIDENT}" fill-opacity="0.15"><title>{escape(name)}</title></rect>'
             for first, last, name in marks]
    parts += [f'<text x="{left - 6}" y="12" text-anchor="end">{top}</text>',
              f'<line x1="{left}" y1="{plot}" x2="{WIDTH - right}" y2="{plot}" stroke="#888"/>']
    for index, (name, count) in enumerate(items):
        x, h = left + index * step, count / top * (plot - 8)
        parts.append(f'<rect x="{x + step * 0.1:.1f}" y="{plot - h:.1f}" width="{max(step * 0.8, 0.5):.1f}" '
                     f'height="{h:.1f}" fill="{AFTER}"><title>{escape(name)}: {count}</title></rect>')
        if index % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{plot + 16}" text-anchor="middle" '
                         f'class="tick">{escape(name)}</text>')
    return _svg(title, height, "".join(parts))


def stacked_bar(items: list[tuple[str, int]], title: str) -> str:
    """One bar split by share, with a legend: a mix (of labels, say) at a glance."""
    total = sum(count for _, count in items)
    if not total:
        return _empty(title)
    parts, x = [], 0.0
    for index, (name, count) in enumerate(items):
        width = count / total * WIDTH
        parts.append(f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="28" fill="{colour(index)}">'
                     f'<title>{escape(name)}: {count} ({count / total:.1%})</title></rect>')
        x += width
    for index, (name, count) in enumerate(items):
        y = 44 + index * 20
        parts.append(f'<rect x="0" y="{y - 11}" width="12" height="12" fill="{colour(index)}"/>'
                     f'<text x="18" y="{y}">{escape(name)}: {count} ({count / total:.1%})</text>')
    return _svg(title, 44 + len(items) * 20, "".join(parts))


def paired_bars(items: list[tuple[str, int, int]], title: str) -> str:
    """Before and after side by side per name: the load change per queue."""
    if not items:
        return _empty(title)
    top = max(max(b, a) for _, b, a in items) or 1
    span, pair = WIDTH - LABEL_WIDTH - 150, BAR_HEIGHT + 12
    rows = []
    for index, (name, before, after) in enumerate(items):
        y = index * pair
        rows.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end">{escape(_short(name))}</text>')
        for offset, value, fill in ((2, before, BEFORE), (16, after, AFTER)):
            rows.append(f'<rect x="{LABEL_WIDTH}" y="{y + offset}" width="{value / top * span:.1f}" height="12" '
                        f'fill="{fill}"><title>{escape(name)}: {value}</title></rect>')
        delta = after - before
        rows.append(f'<text x="{WIDTH - 140}" y="{y + 19}">{before} → {after} ({delta:+d})</text>')
    legend = (f'<rect x="0" y="{len(items) * pair + 4}" width="12" height="12" fill="{BEFORE}"/>'
              f'<text x="18" y="{len(items) * pair + 15}">before</text>'
              f'<rect x="90" y="{len(items) * pair + 4}" width="12" height="12" fill="{AFTER}"/>'
              f'<text x="108" y="{len(items) * pair + 15}">after</text>')
    return _svg(title, len(items) * pair + 22, "".join(rows) + legend)


def span_chart(items: list[tuple[str, datetime, datetime, bool]], title: str) -> str:
    """One bar per item on a shared time axis, from its start to its end; an open one (False) fades out."""
    if not items:
        return _empty(title)
    first, last = min(start for _, start, _, _ in items), max(end for _, _, end, _ in items)
    seconds = max((last - first).total_seconds(), 1.0)
    span = WIDTH - LABEL_WIDTH - 20
    rows = []
    for index, (name, start, end, closed) in enumerate(items):
        y = index * BAR_HEIGHT
        x = LABEL_WIDTH + (start - first).total_seconds() / seconds * span
        length = max((end - start).total_seconds() / seconds * span, 2)
        rows.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(_short(name))}</text>'
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{BAR_HEIGHT - 6}" fill="{INCIDENT}" '
                    f'fill-opacity="{1 if closed else 0.45}"><title>{escape(name)}: {start:%Y-%m-%d %H:%M} to '
                    f'{end:%Y-%m-%d %H:%M} UTC{"" if closed else " (still open)"}</title></rect>')
    axis = len(items) * BAR_HEIGHT + 14
    rows.append(f'<text x="{LABEL_WIDTH}" y="{axis}" class="tick">{first:%Y-%m-%d %H:%M}</text>'
                f'<text x="{WIDTH - 20}" y="{axis}" text-anchor="end" class="tick">{last:%Y-%m-%d %H:%M} UTC</text>')
    return _svg(title, axis + 4, "".join(rows))


def _svg(title: str, height: int, body: str) -> str:
    return (f'<figure><figcaption>{escape(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {WIDTH} {height + 4}" width="{WIDTH}" height="{height + 4}">{body}</svg></figure>')


def _empty(title: str) -> str:
    return f'<figure><figcaption>{escape(title)}</figcaption><p class="empty">nothing to show</p></figure>'


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
