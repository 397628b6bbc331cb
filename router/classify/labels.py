"""The label set and the result of classifying one mention."""

from dataclasses import dataclass

LABELS: tuple[str, ...] = ("complaint", "sales_lead", "recruitment", "pr_crisis", "other")
# Why a label was a guess when its doubt does not say: its confidence was below the threshold.
BELOW_THRESHOLD = "below_threshold"
# The label that makes a mention a crisis, whatever the rules say.
CRISIS_LABEL = "pr_crisis"
# Which stage gave a label: the n-gram model every mention meets, or the careful second look at the unsure ones.
FAST_STAGE = "fast"
CAREFUL_STAGE = "careful"


@dataclass(frozen=True, slots=True)
class Classification:
    """A label with its probability, and every label's probability for the record.

    `lang` is the text's language (the platform's, else detected; None if unknown); `doubt` says why the label
    cannot be trusted whatever its confidence (language.UNSUPPORTED_LANGUAGE, language.TOO_SHORT), else None.
    `stage` is the stage that gave the label: FAST_STAGE or CAREFUL_STAGE.
    """

    label: str
    confidence: float
    scores: dict[str, float]
    lang: str | None = None
    doubt: str | None = None
    stage: str = FAST_STAGE

    @classmethod
    def forced(cls, label: str, confidence: float = 1.0, lang: str | None = None) -> "Classification":
        """A label chosen by hand (tests, explanations), the rest of the probability spread evenly.

        A person read the text, so nothing about it is doubted; its language is the platform's.
        """
        rest = (1.0 - confidence) / (len(LABELS) - 1)
        return cls(label, confidence, {name: confidence if name == label else rest for name in LABELS}, lang)

    def low_confidence_reason(self, low_confidence: bool) -> str | None:
        """Why a mention was triaged: its doubt, or a confidence below the threshold; None if it was not."""
        if not low_confidence:
            return None
        return self.doubt or BELOW_THRESHOLD
