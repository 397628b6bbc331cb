"""Labels fixed by agents: the `routing.corrections` records, and their join with the decisions into training data."""

from router.corrections.record import Correction, correction_problem, parse_correction

__all__ = ["Correction", "correction_problem", "parse_correction"]
