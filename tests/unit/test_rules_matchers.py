"""Matcher parsing and semantics: operators, missing fields, anchored RE2 regexes, word lists."""

import pytest

from router.classify.labels import Classification
from router.mentions import Mention
from router.rules.facts import Facts
from router.rules.matchers import MatcherError, compile_matcher, compile_words, tokenize


def facts(label="complaint", confidence=0.8, low=False, unit=None, **fields) -> Facts:
    base = {"id": "m-1", "source": "twitter", "text": "hello", "created_at": "2026-11-20T10:00:00Z"}
    mention = Mention.model_validate({**base, **fields})
    return Facts(mention, Classification(label, confidence, {label: confidence, "other": 1 - confidence}), low, unit)


@pytest.mark.parametrize(
    "text, parts",
    [
        ('label = "complaint"', ("label", "=", "complaint", True)),
        ("label=complaint", ("label", "=", "complaint", False)),
        ("  author.followers>=10000 ", ("author.followers", ">=", "10000", False)),
        ('text =~ "a \\"quoted\\" \\d+"', ("text", "=~", 'a "quoted" \\d+', True)),
        ('text !~ ".*"', ("text", "!~", ".*", True)),
        ("confidence<0.5", ("confidence", "<", "0.5", False)),
        ('lang != ""', ("lang", "!=", "", True)),
    ],
)
def test_tokenize(text, parts):
    assert tokenize(text) == parts


@pytest.mark.parametrize(
    "matcher, fields, expected",
    [
        ('label = "complaint"', {}, True),
        ('label != "complaint"', {}, False),
        ('label =~ "complaint|sales_lead"', {}, True),
        ('label =~ "compl"', {}, False),  # anchored: a prefix is not a match
        ('label !~ "sales_.*"', {}, True),
        ("confidence >= 0.8", {}, True),
        ("confidence > 0.8", {}, False),
        ("score.complaint = 0.8", {}, True),
        ("score.pr_crisis < 0.1", {}, False),  # no score given for pr_crisis: missing
        ("rating <= 2", {"rating": 2}, True),
        ("rating <= 2", {}, False),  # missing numbers are neither less nor more...
        ("rating != 2", {}, True),  # ...only different
        ("author.followers >= 10000", {"author": {"followers": 10000}}, True),
        ("author.followers >= 10000", {"author": None}, False),
        ("author.verified = true", {"author": {"verified": True}}, True),
        ("author.verified = false", {"author": {}}, True),  # undisclosed means not verified
        ("author.verified != true", {}, True),
        ('lang = ""', {}, True),  # a missing text field compares as empty, as in Alertmanager
        ('lang != "fr"', {}, True),
        ('lang = "fr"', {"lang": "fr"}, True),
        ('account =~ "(?i)grandhotel"', {"account": "GrandHotel"}, True),
        ('text =~ ".*refund.*"', {"text": "Title\nI want a refund"}, True),  # "." crosses newlines
        ('text =~ ".*REFUND.*"', {"text": "refund"}, False),  # case-sensitive unless (?i)
        ("source = twitter", {}, True),
        ("source != facebook", {}, True),
        ("low_confidence = false", {}, True),
    ],
)
def test_matcher_semantics(matcher, fields, expected):
    assert compile_matcher(matcher).matches(facts(**fields)) is expected


def test_business_unit_is_the_resolved_unit():
    assert compile_matcher("business_unit = hotel").matches(facts(unit="hotel", business_unit="golf"))


def test_a_pathological_regex_runs_in_linear_time():
    # (a+)+$ takes exponential time with a backtracking engine; RE2 answers at once.
    matcher = compile_matcher('text =~ "(a+)+b"')
    assert not matcher.matches(facts(text="a" * 50_000 + "c"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I want a REFUND.", True),
        ("Je veux être remboursé!", True),
        ("je veux etre rembourse", True),  # accents do not matter
        ("refunded", False),  # whole words only
        ("Please give my money back now", True),  # phrases
        ("money, back", True),  # punctuation between the words of a phrase is ignored
        ("moneyback", False),
        ("", False),
    ],
)
def test_words(text, expected):
    matcher = compile_words(["refund", "Remboursé", "money back"])
    assert matcher.matches(facts(text=text)) is expected


def test_words_reports_what_it_found():
    matcher = compile_words(["refund", "rembourse"])
    assert matcher.found(facts(text="Refund! Remboursé!")) == ["refund", "rembourse"]


def test_unknown_field_lists_the_fields():
    with pytest.raises(MatcherError, match=r'unknown field "zzz" \(known fields: account, author.followers'):
        compile_matcher("zzz = 1")
