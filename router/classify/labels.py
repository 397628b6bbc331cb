"""The label set and the result of classifying one mention."""

from dataclasses import dataclass

LABELS: tuple[str, ...] = ("complaint", "sales_lead", "recruitment", "pr_crisis", "other")


@dataclass(frozen=True, slots=True)
class Classification:
    """A label with its probability, and every label's probability for the record."""

    label: str
    confidence: float
    scores: dict[str, float]
