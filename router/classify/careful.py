"""The careful stage's part in the cascade: which fast labels it looks at again."""

from router.classify.labels import Classification


def takes_careful(classification: Classification, below: float | None) -> bool:
    """Whether a fast label goes to the careful stage: less confident than `below` (None: none does).

    A doubted label (a language the model does not know, no text to read) goes to triage whatever any
    stage says, so it does not take the slower stage.
    """
    return below is not None and classification.doubt is None and classification.confidence < below
