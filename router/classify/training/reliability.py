"""Calibration on complaint-vs-rest sets: ECE, a reliability diagram (SVG) and the triage curve per threshold.

    python -m router.classify.training.reliability --data uva.jsonl --data tripadvisor.jsonl \
        [--model DIR --model OTHER_DIR] --out reliability.svg

A complaint-vs-rest set can only tell whether the complaint/rest call was right, so the
confidence measured is the model's in that call: P(complaint) or one minus it, and the call
is complaint when P(complaint) is at least 0.5. The triage curve uses what routing uses,
the top label's confidence: below the threshold a mention is triaged.
"""

import argparse
import html
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router.classify.model import Classifier
from router.classify.training.corpus import read_labelled
from router.classify.training.train import expected_calibration_error

POSITIVE = "complaint"
BINS = 10
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


@dataclass(frozen=True)
class Reliability:
    """One model on one set: the binary call's confidence and correctness, and the top label's confidence."""

    name: str
    confidence: np.ndarray
    correct: np.ndarray
    top: np.ndarray

    @property
    def ece(self) -> float:
        return expected_calibration_error(self.confidence, self.correct, BINS)

    def bins(self) -> list[tuple[float, float, int]]:
        """(mean confidence, accuracy, count) of each non-empty bin."""
        which = np.clip((self.confidence * BINS).astype(int), 0, BINS - 1)
        return [(float(self.confidence[which == b].mean()), float(self.correct[which == b].mean()),
                 int((which == b).sum())) for b in range(BINS) if (which == b).any()]

    def triage(self, threshold: float) -> tuple[float, float]:
        """(share triaged, accuracy of the call on the mentions kept) at a routing threshold."""
        kept = self.top >= threshold
        return float(1 - kept.mean()), float(self.correct[kept].mean()) if kept.any() else float("nan")


def measure(classifier: Classifier, path: Path, name: str) -> Reliability:
    data = read_labelled([path])
    if set(data.labels) - {POSITIVE, "other"}:
        raise SystemExit(f"{path}: a complaint-vs-rest set holds only complaint and other labels")
    probabilities = classifier.probabilities(data.texts)
    positive = probabilities[:, classifier.labels.index(POSITIVE)]
    gold = np.asarray(data.labels) == POSITIVE
    return Reliability(name, np.maximum(positive, 1 - positive), (positive >= 0.5) == gold, probabilities.max(axis=1))


# The diagram: confidence 0.5-1 on x, accuracy 0.3-1 on y (a binary call is never less than half sure).
SIZE, PAD, LOW_X, LOW_Y = 420, 60, 0.5, 0.3
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _xy(confidence: float, accuracy: float) -> tuple[float, float]:
    confidence, accuracy = min(max(confidence, LOW_X), 1.0), min(max(accuracy, LOW_Y), 1.0)  # kept in the box
    x = PAD + (confidence - LOW_X) / (1 - LOW_X) * SIZE
    y = PAD + (1 - (accuracy - LOW_Y) / (1 - LOW_Y)) * SIZE
    return round(x, 1), round(y, 1)


def render(curves: list[Reliability], title: str) -> str:
    width, height = SIZE + 2 * PAD + 260, SIZE + 2 * PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{PAD + SIZE / 2}" y="22" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
             f'<rect x="{PAD}" y="{PAD}" width="{SIZE}" height="{SIZE}" fill="none" stroke="#999"/>']
    for tick in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        x, _ = _xy(tick, LOW_Y)
        parts.append(f'<text x="{x}" y="{PAD + SIZE + 16}" text-anchor="middle">{tick:.1f}</text>')
    for tick in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        _, y = _xy(LOW_X, tick)
        parts.append(f'<text x="{PAD - 6}" y="{y + 4}" text-anchor="end">{tick:.1f}</text>')
    (x0, y0), (x1, y1) = _xy(0.5, 0.5), _xy(1.0, 1.0)
    parts += [f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#bbb" stroke-dasharray="4 4"/>',
              f'<text x="{PAD + SIZE / 2}" y="{height - 14}" text-anchor="middle">confidence of the '
              'complaint/rest call</text>',
              f'<text x="16" y="{PAD + SIZE / 2}" transform="rotate(-90 16 {PAD + SIZE / 2})" '
              'text-anchor="middle">share right</text>']
    for index, curve in enumerate(curves):
        colour, dash = COLOURS[(index // 2) % len(COLOURS)], "" if index % 2 else ' stroke-dasharray="6 3"'
        points = [(*_xy(c, a), n) for c, a, n in curve.bins()]
        path = " ".join(f"{x},{y}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        total = sum(n for *_, n in points)
        for x, y, n in points:
            radius = round(2 + 8 * (n / total) ** 0.5, 1)
            parts.append(f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{colour}" fill-opacity="0.5"/>')
        ly = PAD + 16 + 20 * index
        parts.append(f'<line x1="{PAD + SIZE + 16}" y1="{ly - 4}" x2="{PAD + SIZE + 40}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{PAD + SIZE + 46}" y="{ly}">{html.escape(curve.name)}: ECE {curve.ece:.3f}</text>')
    parts.append(f'<text x="{PAD + SIZE + 16}" y="{PAD + 30 + 20 * len(curves)}" font-size="11">'
                 'dot area: share of the set in the bin</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def report(curves: list[Reliability]) -> str:
    lines = [f"{'set':<56} {'n':>6} {'ECE':>6}  " + "  ".join(f"t={t:<4}" for t in THRESHOLDS)]
    for curve in curves:
        cells = "  ".join("{:.0%}/{:.3f}".format(*curve.triage(t)) for t in THRESHOLDS)
        lines.append(f"{curve.name:<56} {len(curve.correct):>6} {curve.ece:>6.3f}  {cells}")
    lines.append("cells: share triaged / accuracy of the complaint-rest call on the mentions kept")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True, help="complaint-vs-rest JSONL; repeat")
    parser.add_argument("--model", type=Path, action="append", help="model directory; repeat to compare "
                        "(default: the shipped model)")
    parser.add_argument("--out", type=Path, help="SVG file to write")
    args = parser.parse_args(argv)
    classifiers = [Classifier.load(directory) for directory in (args.model or [None])]
    curves = [measure(classifier, path, f"{path.stem} ({classifier.version})")
              for path in args.data for classifier in classifiers]
    print(report(curves))
    if args.out:
        args.out.write_text(render(curves, "Reliability of the complaint/rest call"), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
