"""Sentiment lexicon scores: the arithmetic, VADER's lexicon as a fitted step, and runtime files of both formats."""

import math

import numpy as np
import pytest

from router.classify import runtime
from router.classify.features import SentimentLexicon
from router.classify.lexicon import ALPHA, scores, word_hashes
from router.classify.model import default_model_dir


def lexicon_of(entries: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    hashes, kept = word_hashes(list(entries))
    order = np.argsort(hashes)
    return hashes[order], np.asarray(list(entries.values()))[kept][order]


def test_the_four_scores_are_shares_of_valence_and_a_compound():
    vocabulary, valences = lexicon_of({"good": 2.0, "bad": -2.0, "two words": 9.0})
    rows = scores(["good good bad movie", "movie", ""], vocabulary, valences).toarray()
    # good + good = 4 positive, bad = 2 negative, movie = 1 neutral word: 7 in all.
    assert rows[0] == pytest.approx([2 / 7, 1 / 7, 4 / 7, 2 / math.sqrt(4 + ALPHA)])
    assert rows[1] == pytest.approx([0, 1, 0, 0])
    assert rows[2] == pytest.approx([0, 0, 0, 0])
    assert scores(["two words"], vocabulary, valences).toarray()[0, 3] == 0  # a phrase is no entry


def test_vaders_lexicon_is_read_from_its_package_and_kept_as_arrays():
    step = SentimentLexicon().fit()
    assert len(step.vocabulary_) > 7000 and np.all(np.diff(step.vocabulary_.astype(np.float64)) >= 0)
    negative, neutral, positive, compound = step.transform(["i love this", "horrible, just horrible"]).toarray().T
    assert positive[0] > 0 and compound[0] > 0.5
    assert negative[1] > 0 and compound[1] < -0.5


def test_a_runtime_file_of_the_first_format_still_loads(tmp_path):
    shipped = runtime.load(default_model_dir())
    ngrams = tuple(block for block in shipped.blocks if isinstance(block, runtime.NgramBlock))
    width = sum(len(block.vocabulary) for block in ngrams)
    old = runtime.LinearModel(shipped.labels, ngrams, shipped.coef[:, :width], shipped.intercept, 1.0)
    runtime.save(old, tmp_path)
    with np.load(tmp_path / runtime.RUNTIME_FILE) as arrays:
        fields = {name: arrays[name] for name in arrays.files}
    np.savez(tmp_path / runtime.RUNTIME_FILE, **{**fields, "format": 1})
    loaded = runtime.load(tmp_path)
    assert [block.kind for block in loaded.blocks] == ["word", "char"]
    assert np.array_equal(loaded.probabilities(["hello"]), old.probabilities(["hello"]))
