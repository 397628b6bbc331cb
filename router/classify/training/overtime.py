"""Accuracy on agents' corrections week by week: how a model does on the mentions production got wrong."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from router.errors import InvalidMention


@dataclass(frozen=True, slots=True)
class Corrected:
    """When a line's label was given, and what the model that routed the mention had said (None if unknown)."""

    at: datetime
    predicted_label: str | None


def read_corrected(path: str | Path) -> list[Corrected]:
    """`at` and `predicted_label` of each line of a `corrections export` file, in the order read_labelled reads them."""
    found = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)  # read_labelled has read it already: it is a JSON object
            try:
                at = datetime.fromisoformat(record["at"])
            except (KeyError, TypeError, ValueError):
                raise InvalidMention(f"{path}:{number}: a correction needs `at`, an ISO-8601 time with its zone "
                                     "(write the file with `inbox-router corrections export`)") from None
            if at.tzinfo is None:
                raise InvalidMention(f"{path}:{number}: `at` has no time zone: {record['at']}")
            predicted = record.get("predicted_label")
            found.append(Corrected(at, predicted if isinstance(predicted, str) else None))
    return found


def over_time(corrected: Sequence[Corrected], gold: Sequence[str], predicted: Sequence[str], model: str) -> dict:
    """Per ISO week of the corrections (UTC): how many, and the share the model, and the routing model, got right."""
    if not len(corrected) == len(gold) == len(predicted):
        raise ValueError("one correction, one gold label and one prediction per line")
    rows = []
    for monday, indexes in sorted(_by_week(corrected).items()):
        year, week, _ = monday.isocalendar()
        shares = _shares([corrected[i] for i in indexes], [gold[i] for i in indexes], [predicted[i] for i in indexes])
        rows.append({"week": f"{year}-W{week:02d}", "from": monday.isoformat(), **shares})
    return {"model": model, **_shares(corrected, gold, predicted), "weeks": rows}


def _by_week(corrected: Sequence[Corrected]) -> dict[date, list[int]]:
    weeks: dict[date, list[int]] = {}
    for index, line in enumerate(corrected):
        day = line.at.astimezone(timezone.utc).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(index)
    return weeks


def _shares(corrected: Sequence[Corrected], gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """How many corrections, and the share right: of the model scored, and of the one that had routed them."""
    known = [(line.predicted_label, label) for line, label in zip(corrected, gold) if line.predicted_label]
    return {
        "corrections": len(gold),
        "model_right": sum(p == g for p, g in zip(predicted, gold)) / len(gold) if gold else 0.0,
        "routing_model_right": sum(p == g for p, g in known) / len(known) if known else None,
    }


def format_over_time(result: dict) -> str:
    """The table `evaluate --corrections` prints."""
    lines = [f"corrections by week: the model {result['model']}, and the model that routed each mention",
             f"{'week':<9} {'from':<10} {'corrections':>11} {'model right':>11} {'routing model right':>19}"]
    for row in [*result["weeks"], {"week": "all", "from": "", **result}]:
        routing = row["routing_model_right"]
        lines.append(f"{row['week']:<9} {row['from']:<10} {row['corrections']:>11d} {row['model_right']:>11.3f} "
                     f"{'-' if routing is None else f'{routing:.3f}':>19}")
    return "\n".join(lines)
