"""What tests comparing the live worker with replay share: decisions without the clock, configs made to measure."""

import json


def comparable(decision: dict) -> str:
    """A decision without `routed_at`, the one field that is the clock (wall time live, event time in replay)."""
    routing = {key: value for key, value in decision["routing"].items() if key != "routed_at"}
    return json.dumps({**decision, "routing": routing}, sort_keys=True)


def without_crisis(text: str) -> str:
    """The config text without its top-level `crisis:` section.

    The live worker routes in an incident from the moment it reads the incident's opening event, so mentions
    published with the one that opened it may differ (test_worker_crisis.py compares the incidents themselves).
    """
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if line[:1] not in (" ", "#", "\n", ""):
            inside = line.startswith("crisis:")
        if not inside:
            kept.append(line)
    return "".join(kept)


def with_careful_below(text: str, below: float | None) -> str:
    """The config text with `careful_below: below`, or without any (None): the careful stage off."""
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith("careful_below:")]
    return "".join(kept) + ("" if below is None else f"\ncareful_below: {below}\n")
