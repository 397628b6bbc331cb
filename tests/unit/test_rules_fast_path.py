"""Property: the decisions `decide` memoises, and the words it folds per chunk, are what the plain definitions give."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from test_rules_property import ALL_FIELDS_CONFIG, CONFIGS, classifications, mentions, texts

from router.rules.words import _WORD, fold, word_line, words_of


def _plain_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@settings(max_examples=300, deadline=None)
@given(mention=mentions, classification=classifications, low=st.booleans(),
       index=st.integers(0, len(CONFIGS)))
def test_decide_is_the_traced_decision(mention, classification, low, index):
    config = (CONFIGS + [ALL_FIELDS_CONFIG])[index]
    for _ in range(2):  # the second time from the memo
        assert config.decide(mention, classification, low_confidence=low) == config.explain(
            mention, classification, low_confidence=low).decision


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(texts, st.text()))
def test_words_folded_per_chunk_are_the_words_of_the_folded_text(text):
    assert fold(text) == _plain_fold(text)
    for _ in range(2):  # the second time from the chunk cache
        assert words_of(text) == _WORD.findall(_plain_fold(text))
    assert word_line(text) == " " + " ".join(_WORD.findall(_plain_fold(text))) + " "
