"""Draw a model's held-out confusion matrix as one SVG file: `python -m router.classify.training.confusion_svg`."""

import argparse
import html
import sys
from pathlib import Path

from router.classify import artifact
from router.classify.model import default_model_dir

CELL, LEFT, TOP = 84, 110, 90


def _shade(fraction: float) -> str:
    """White to dark blue by the share of the gold row, so small classes read as well as big ones."""
    level = int(255 - 200 * fraction)
    return f"rgb({level},{level + int(40 * fraction)},255)"


def render(labels: list[str], matrix: list[list[int]], title: str) -> str:
    size = len(labels)
    width, height = LEFT + CELL * size + 20, TOP + CELL * size + 40
    middle = TOP + CELL * size / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
        f'<text x="{LEFT + CELL * size / 2}" y="45" text-anchor="middle">predicted</text>',
        f'<text x="15" y="{middle}" transform="rotate(-90 15 {middle})" text-anchor="middle">gold</text>',
    ]
    for j, label in enumerate(labels):
        parts.append(f'<text x="{LEFT + CELL * j + CELL / 2}" y="{TOP - 10}" text-anchor="middle">{label}</text>')
    for i, (label, row) in enumerate(zip(labels, matrix)):
        total = sum(row) or 1
        y = TOP + CELL * i
        parts.append(f'<text x="{LEFT - 8}" y="{y + CELL / 2 + 4}" text-anchor="end">{label}</text>')
        for j, count in enumerate(row):
            x = LEFT + CELL * j
            share = count / total
            colour = "white" if share > 0.6 else "black"
            parts.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{_shade(share)}" stroke="#999"/>')
            parts.append(
                f'<text x="{x + CELL / 2}" y="{y + CELL / 2 + 4}" text-anchor="middle" fill="{colour}">{count}</text>'
            )
    parts.append(f'<text x="{LEFT}" y="{height - 12}" font-size="11">shade: share of the gold row</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--out", type=Path, required=True, help="SVG file to write")
    args = parser.parse_args(argv)
    directory = args.model or default_model_dir()
    manifest = artifact.read_manifest(directory)
    holdout = manifest["metrics"]["holdout"]
    title = f"{manifest['version']}: held-out confusion (n={holdout['n']})"
    args.out.write_text(render(holdout["labels"], holdout["confusion"], title), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
