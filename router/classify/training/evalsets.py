"""Convert the evaluation-only public sets into labelled JSONL: `python -m router.classify.training.evalsets`.

These sets may measure the shipped model but never train it nor be committed, so the
output folder must lie outside the project tree.
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from router.settings import REPO_ROOT


def _decode(raw: bytes) -> str:
    """The UVA files mix UTF-8 and Windows-1252 lines; decode each line with what works."""
    lines = []
    for line in raw.splitlines(keepends=True):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp1252", errors="replace"))
    return "".join(lines)


def uva_complaints(root: Path) -> list[dict]:
    """UVA airline and telecom tweets, complaint 1/0 -> complaint/other (the deduplicated trainData.csv)."""
    text = _decode((root / "uva-complaints" / "trainData.csv").read_bytes())
    return [
        {"id": f"uva-{i}", "source": "twitter", "text": r["text"], "industry": r["industry"],
         "label": "complaint" if r["complaint"].strip() in ("1", "1.0") else "other"}
        for i, r in enumerate(csv.DictReader(io.StringIO(text)))
    ]


def tripadvisor(root: Path) -> list[dict]:
    """TripAdvisor hotel reviews: 1-2 stars -> complaint, 4-5 stars -> other, 3 stars left out as mixed."""
    path = root / "tripadvisor-hotel-reviews-2k" / "tripadvisor_hotel_reviews_first2000.csv"
    rows = list(csv.DictReader(io.StringIO(_decode(path.read_bytes()))))
    out = []
    for i, r in enumerate(rows):
        stars = int(r["Rating"])
        if stars != 3:
            out.append({"id": f"ta-{i}", "source": "tripadvisor", "rating": stars, "text": r["Review"],
                        "label": "complaint" if stars <= 2 else "other"})
    return out


def free_mobile(root: Path) -> list[dict]:
    """French telecom tweets, unlabelled: for reading predictions and measuring throughput."""
    path = root / "free-mobile-tweets-fr" / "free_tweet_export.csv"
    rows = csv.DictReader(io.StringIO(_decode(path.read_bytes())))
    return [{"id": f"free-{r['tweet_id']}", "source": "twitter", "lang": "fr", "author": {"handle": r["author"]},
             "text": r["text"]} for r in rows]


SETS = {"uva-complaints": uva_complaints, "tripadvisor-lowstar": tripadvisor, "free-mobile-fr": free_mobile}


def convert(root: Path, out: Path) -> dict[str, int]:
    out = out.resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        raise SystemExit(f"refusing to write evaluation-only data inside the project ({out}): use a folder outside it")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, reader in SETS.items():
        records = reader(root)
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps({"created_at": "2020-01-01T00:00:00Z", **record}, ensure_ascii=False) + "\n")
        counts[name] = len(records)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, type=Path, help="folder holding uva-complaints/, ...")
    parser.add_argument("--out", required=True, type=Path, help="folder outside the repo to write <set>.jsonl into")
    args = parser.parse_args(argv)
    for name, count in convert(args.data_root, args.out).items():
        print(f"{name}: {count} records -> {args.out / (name + '.jsonl')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
