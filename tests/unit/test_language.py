"""A mention's language, the languages a model knows, and the doubts that triage a label at any confidence."""

import json
import shutil

import pytest

from router.classify.classifier import ForcedLabel
from router.classify.labels import Classification
from router.classify.language import (
    TOO_SHORT,
    UNSUPPORTED_LANGUAGE,
    assess,
    detect,
    primary,
    too_short,
)
from router.classify.model import Classifier, default_model_dir
from router.classify.training.corpus import Labelled, read_labelled

EN_FR = frozenset({"en", "fr"})


@pytest.mark.parametrize(("tag", "code"), [("en", "en"), ("en-GB", "en"), ("pt_BR", "pt"), ("FR", "fr"),
                                           ("und", None), ("zxx", None), ("qme", None), ("", None), (None, None)])
def test_a_platform_code_gives_its_primary_language_or_none(tag, code):
    assert primary(tag) == code


@pytest.mark.parametrize(("text", "code"), [
    ("great, another 3 hour delay, thanks @airline", "en"),
    ("Vol annulé encore une fois, merci @AirBoreal, trois heures d'attente", "fr"),
    ("Mi vuelo fue cancelado y nadie me ayuda", "es"),
    ("Ich möchte einen Flug nach Berlin buchen, was kostet das?", "de"),
    ("Obrigado pela ajuda, o voo foi ótimo", "pt"),
])
def test_the_language_of_a_sentence_is_detected(text, code):
    assert detect(text) == code


@pytest.mark.parametrize("text", ["ok", "merci!", "lol same", "", "👍👍"])
def test_a_few_words_are_no_language_rather_than_a_guess(text):
    assert detect(text) is None


def test_control_characters_and_lone_surrogates_do_not_stop_detection():
    assert detect("\x00\x01 Bonjour, je voudrais réserver une chambre pour deux nuits s'il vous plaît") == "fr"
    assert detect("my flight was cancelled \ud800 and nobody at the desk could help me at all") == "en"


@pytest.mark.parametrize("text", ["", "   ", "👍", "@AirBoreal 👍", "ok", "?!?!", "https://t.co/abcdef @NordTel",
                                  "@a @b @c 😡😡😡 http://x.co/y"])
def test_near_empty_text_is_too_short(text):
    assert too_short(text)


@pytest.mark.parametrize("text", ["nul", "@SkyLineAir unacceptable", "still nothing", "wtf", "見てない", "x" * 5000])
def test_three_letters_are_enough(text):
    assert not too_short(text)


def test_assess_prefers_the_platform_language_and_detects_only_without_one():
    spanish = "Mi vuelo fue cancelado y nadie me ayuda"
    assert assess(spanish, None, EN_FR) == ("es", UNSUPPORTED_LANGUAGE)
    assert assess(spanish, "en", EN_FR) == ("en", None)  # the platform is trusted: no detector is run
    assert assess("where is my refund, it has been two weeks", "es-MX", EN_FR) == ("es", UNSUPPORTED_LANGUAGE)
    assert assess(spanish, "und", EN_FR) == ("es", UNSUPPORTED_LANGUAGE)
    assert assess(spanish, None, None) == ("es", None)  # a model that names no languages is trusted in any
    assert assess("lol same", None, EN_FR) == (None, None)  # unknown is not unsupported
    assert assess("", "fr", EN_FR) == ("fr", TOO_SHORT)
    # Handles and links are not the author's words: they neither make a language nor count towards one.
    assert assess("@TMobileHelp DM sent", None, EN_FR) == (None, None)
    assert assess("@ATTCares done!", None, EN_FR) == (None, None)
    assert assess("Awful @AmericanAir.", None, EN_FR) == (None, None)


@pytest.fixture(scope="module")
def english_only(tmp_path_factory):
    """The shipped model, with a manifest that says it knows English alone."""
    directory = tmp_path_factory.mktemp("english")
    for path in default_model_dir().iterdir():
        shutil.copy(path, directory / path.name)
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps({**manifest, "languages": ["en"]}))
    return Classifier.load(directory)


def test_the_model_doubts_a_language_its_manifest_does_not_name(english_only):
    texts = ["@CableCo je paie la fibre et j'ai pas internet depuis une semaine, c'est inadmissible",
             "@CableCo my internet has been down for 3 days and nobody came to fix it", "", "🙂"]
    results = english_only.classify(texts, [None, None, None, "en"])
    assert [(r.lang, r.doubt) for r in results] == [("fr", UNSUPPORTED_LANGUAGE), ("en", None), (None, TOO_SHORT),
                                                    ("en", TOO_SHORT)]
    # The label and its probabilities stand: only the trust in them changes.
    assert [r.scores for r in results] == [r.scores for r in english_only.classify(texts)]
    assert results[0].low_confidence_reason(True) == UNSUPPORTED_LANGUAGE
    assert results[1].low_confidence_reason(True) == "below_threshold"
    assert results[1].low_confidence_reason(False) is None


def test_a_forced_label_is_not_doubted_and_keeps_the_platform_language(english_only):
    forced = ForcedLabel("complaint", 0.9, model=lambda: english_only)
    assert forced.classify(["", "Mi vuelo fue cancelado"], ["es-MX", None]) == [
        Classification.forced("complaint", 0.9, "es"), Classification.forced("complaint", 0.9)]


def test_training_names_the_languages_with_enough_examples(tmp_path):
    rows = [{"text": f"t{i}", "label": "other", "lang": "fr" if i < 3 else "en-CA"} for i in range(10)]
    rows.append({"source": "twitter", "id": "m", "created_at": "2026-01-01T00:00:00Z", "text": "x", "lang": "es",
                 "label": "complaint"})
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    data = read_labelled([path])
    assert data.langs == ["fr"] * 3 + ["en-CA"] * 7 + ["es"]
    assert data.languages(3) == ["en", "fr"]
    assert data.languages(4) == ["en"]
    assert Labelled(["a"], ["other"]).languages(1) is None  # no record says: the model will not say either
