"""Which fast labels take the careful stage."""

from router.classify.careful import takes_careful
from router.classify.labels import Classification


def test_unsure_labels_take_the_careful_stage_when_the_config_asks():
    unsure, sure = Classification.forced("complaint", 0.55), Classification.forced("complaint", 0.95)
    assert takes_careful(unsure, 0.8) and not takes_careful(sure, 0.8)
    assert not takes_careful(unsure, None)


def test_doubted_labels_go_to_triage_without_the_careful_stage():
    doubted = Classification("other", 0.3, {"other": 0.3}, "es", "unsupported_language")
    assert not takes_careful(doubted, 0.8)
