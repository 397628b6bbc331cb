"""The fitted classifier as plain arrays: what routing runs, without scikit-learn.

Importing scikit-learn costs each process about 100 MB and its estimators check their
inputs on every call; the arithmetic of the shipped pipeline is a few numpy lines:
n-gram counts, sublinear TF-IDF normalised per block, sentiment lexicon scores, a linear model,
temperature scaling.
The arrays are saved beside the skops file as a .npz that loads without pickle.
"""

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from router.classify import lexicon
from router.classify.ngrams import count_matrix, lookup_table, words
from router.classify.text import normalize_all
from router.errors import ModelError

# What ngrams.words() gives: the document index and the hash of every word of a batch.
Words = tuple[np.ndarray, np.ndarray]
RUNTIME_FILE = "runtime.npz"
MANIFEST_FILE = "manifest.json"
FORMAT = 2  # 2: blocks may be sentiment lexicons; format 1 files (n-gram blocks only) still load
READABLE_FORMATS = (1, 2)
RUNTIME_HASH = "runtime_sha256"  # the manifest's field that names the runtime file it goes with
LEXICON = "lexicon"


@dataclass(frozen=True)
class NgramBlock:
    """One block of features: an n-gram vocabulary and its inverse document frequencies."""

    kind: str
    ngram_range: tuple[int, int]
    vocabulary: np.ndarray
    table_bits: int
    idf: np.ndarray
    table: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", lookup_table(self.vocabulary, self.table_bits))

    def tfidf(self, texts: list[str], found: Words | None = None) -> sp.csr_matrix:
        """Sublinear TF-IDF rows of unit length, as scikit-learn's TfidfTransformer(sublinear_tf=True) gives."""
        rows = count_matrix(texts, self.kind, self.ngram_range, self.vocabulary, self.table, self.table_bits, found)
        np.log(rows.data, out=rows.data)
        rows.data += 1.0
        rows.data *= self.idf[rows.indices]
        lengths = np.diff(rows.indptr)
        norms = np.zeros(rows.shape[0])
        filled = lengths > 0
        norms[filled] = np.sqrt(np.add.reduceat(rows.data**2, rows.indptr[:-1][filled]))
        norms[~filled] = 1.0
        rows.data /= np.repeat(norms, lengths)
        return rows

    def logits(self, texts: list[str], found: Words | None, weights: np.ndarray) -> np.ndarray:
        """The block's share of each text's logits: scipy multiplies a sparse matrix row by row."""
        return self.tfidf(texts, found) @ weights

    @property
    def width(self) -> int:
        return len(self.vocabulary)


@dataclass(frozen=True)
class LexiconBlock:
    """Sentiment lexicon scores: sorted word hashes and their valences."""

    vocabulary: np.ndarray
    valences: np.ndarray
    kind: str = LEXICON

    @property
    def width(self) -> int:
        return lexicon.SCORES

    def logits(self, texts: list[str], found: Words | None, weights: np.ndarray) -> np.ndarray:
        """The block's share of each text's logits, a score at a time: numpy would hand `scores @ weights` to BLAS,
        whose last bits change with the number of rows, and a text's label must not change with its batch."""
        scores = lexicon.score_rows(texts, self.vocabulary, self.valences, found)
        logits = scores[:, :1] * weights[0]
        for column in range(1, scores.shape[1]):
            logits += scores[:, column : column + 1] * weights[column]
        return logits


@dataclass(frozen=True)
class LinearModel:
    """Probabilities of each label: softmax(temperature * (features @ coef.T + intercept))."""

    labels: tuple[str, ...]
    blocks: tuple[NgramBlock | LexiconBlock, ...]
    coef: np.ndarray  # labels x features, the blocks' columns side by side
    intercept: np.ndarray
    temperature: float  # 1.0 for an uncalibrated model
    # Each block's features x labels, in C order: given coef.T, a view, scipy copied all of it (megabytes) on
    # every batch; and multiplying block by block spares stacking the blocks' matrices into one.
    weights: tuple[np.ndarray, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ends = np.cumsum([block.width for block in self.blocks])
        weights = np.ascontiguousarray(self.coef.T)
        object.__setattr__(self, "weights", tuple(np.split(weights, ends[:-1])))

    def probabilities(self, texts: list[str]) -> np.ndarray:
        normalised = normalize_all(texts)
        # The words are split and hashed once for the word n-grams and the lexicon scores.
        found = words(normalised) if any(block.kind != "char" for block in self.blocks) else None
        logits = np.tile(self.intercept, (len(normalised), 1))
        for block, weights in zip(self.blocks, self.weights):
            logits += block.logits(normalised, found, weights)
        logits *= self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


def read_manifest(directory: Path) -> dict:
    """The manifest, or a ModelError saying what is missing."""
    return parse_manifest(read_manifest_bytes(directory), directory / MANIFEST_FILE)


def read_manifest_bytes(directory: Path) -> bytes:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(f"no model at {directory}: {MANIFEST_FILE} is missing (train one with `inbox-router train`)")
    try:
        return path.read_bytes()
    except OSError as error:
        raise ModelError(f"unreadable manifest {path}: {error}") from None


def parse_manifest(data: bytes, path: Path) -> dict:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise ModelError(f"unreadable manifest {path}: {error}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"unreadable manifest {path}: expected a JSON object")
    return manifest


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(model: LinearModel, directory: Path) -> None:
    arrays: dict[str, Any] = {"format": FORMAT, "labels": np.array(model.labels), "coef": model.coef,
                              "intercept": model.intercept, "temperature": model.temperature,
                              "blocks": len(model.blocks)}
    for index, block in enumerate(model.blocks):
        arrays |= {f"block{index}_kind": block.kind, f"block{index}_vocabulary": block.vocabulary}
        if isinstance(block, LexiconBlock):
            arrays[f"block{index}_valences"] = block.valences
        else:
            arrays |= {f"block{index}_ngram_range": np.array(block.ngram_range),
                       f"block{index}_table_bits": block.table_bits, f"block{index}_idf": block.idf}
    with open(directory / RUNTIME_FILE, "wb") as out:
        np.savez_compressed(out, **arrays)


def read_runtime(directory: Path) -> bytes:
    path = directory / RUNTIME_FILE
    if not path.is_file():
        raise ModelError(f"no model at {directory}: {RUNTIME_FILE} is missing (save the model again with this version)")
    try:
        return path.read_bytes()
    except OSError as error:
        raise ModelError(f"cannot read model {path}: {error}") from None


def load(directory: Path, manifest: dict | None = None) -> LinearModel:
    """The arrays of an artifact, checked against the manifest's hash of them when it gives one."""
    return from_bytes(read_runtime(directory), directory / RUNTIME_FILE, manifest)


def from_bytes(data: bytes, path: Path, manifest: dict | None = None) -> LinearModel:
    """The arrays of a runtime file's bytes; numpy reads them without pickle, so a foreign file cannot run code.

    A manifest that names the file's hash (`runtime_sha256`) is refused when the file is another: a directory
    half rewritten, or files of two models side by side.
    """
    expected = (manifest or {}).get(RUNTIME_HASH)
    if expected is not None and expected != (found := sha256(data)):
        raise ModelError(f"model {path} does not match its manifest: {RUNTIME_HASH} is {expected}, the file's {found}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if int(arrays["format"]) not in READABLE_FORMATS:
                raise ModelError(f"model {path} has format {int(arrays['format'])}; this version reads "
                                 f"{' and '.join(map(str, READABLE_FORMATS))}")
            blocks = tuple(_block(arrays, index) for index in range(int(arrays["blocks"])))
            return LinearModel(tuple(str(label) for label in arrays["labels"]), blocks, arrays["coef"],
                               arrays["intercept"], float(arrays["temperature"]))
    except ModelError:
        raise
    except Exception as error:  # numpy raises many kinds on a corrupt or foreign file
        raise ModelError(f"cannot load model {path}: {type(error).__name__}: {error}") from None


def _block(arrays: Any, index: int) -> NgramBlock | LexiconBlock:
    if str(arrays[f"block{index}_kind"]) == LEXICON:
        return LexiconBlock(arrays[f"block{index}_vocabulary"], arrays[f"block{index}_valences"])
    low, high = (int(size) for size in arrays[f"block{index}_ngram_range"])
    return NgramBlock(str(arrays[f"block{index}_kind"]), (low, high), arrays[f"block{index}_vocabulary"],
                      int(arrays[f"block{index}_table_bits"]), arrays[f"block{index}_idf"])
