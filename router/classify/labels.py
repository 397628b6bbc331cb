"""The label set and the result of classifying one mention."""

from dataclasses import dataclass

LABELS: tuple[str, ...] = ("complaint", "sales_lead", "recruitment", "pr_crisis", "other")
# The label that makes a mention a crisis, whatever the rules say.
CRISIS_LABEL = "pr_crisis"


@dataclass(frozen=True, slots=True)
class Classification:
    """A label with its probability, and every label's probability for the record."""

    label: str
    confidence: float
    scores: dict[str, float]

    @classmethod
    def forced(cls, label: str, confidence: float = 1.0) -> "Classification":
        """A label chosen by hand (tests, explanations), the rest of the probability spread evenly."""
        rest = (1.0 - confidence) / (len(LABELS) - 1)
        return cls(label, confidence, {name: confidence if name == label else rest for name in LABELS})
