"""Saving and loading a fitted pipeline with skops (never pickle), its runtime arrays and its manifest."""

import json
import platform
import zipfile
from pathlib import Path

import numpy as np
import sklearn
import skops
import skops.io as sio

from router.classify import runtime
from router.classify.features import SentimentLexicon
from router.classify.runtime import MANIFEST_FILE, read_manifest
from router.errors import ModelError

__all__ = ["load_pipeline", "read_manifest", "runtime_model", "save", "versions"]

MODEL_FILE = "model.skops"

# Types the loader accepts beyond skops' own defaults. Anything else in an artifact is
# refused: a skops file can name arbitrary callables, and the artifact may come from
# outside the repo (`--model DIR`, INBOX_MODEL_DIR).
TRUSTED_TYPES = frozenset(
    {
        "router.classify.features.NgramCounter",
        "router.classify.features.SentimentLexicon",
        "router.classify.normalize.TextNormalizer",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._TemperatureScaling",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "sklearn.utils._bunch.Bunch",
        "builtins.slice",
    }
)


def versions() -> dict[str, str]:
    """The library versions an artifact is built with, recorded in its manifest."""
    return {"scikit-learn": sklearn.__version__, "skops": skops.__version__, "python": platform.python_version()}


def save(pipeline, manifest: dict, directory: Path) -> None:
    """Write the skops file, the runtime arrays and the manifest into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, directory / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    runtime.save(runtime_model(pipeline), directory)
    # The manifest names the runtime file it goes with: a reader refuses a directory caught half rewritten.
    manifest = {**manifest, runtime.RUNTIME_HASH: runtime.sha256((directory / runtime.RUNTIME_FILE).read_bytes())}
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    (directory / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")


def runtime_model(pipeline) -> runtime.LinearModel:
    """The arrays of a fitted pipeline as build_pipeline() makes it, with or without calibration."""
    try:
        features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
        blocks = tuple(_runtime_block(step) for _, step in features.transformer_list)
        temperature, half = 1.0, 0.5
        if hasattr(model, "calibrated_classifiers_"):
            [calibrated] = model.calibrated_classifiers_  # ensemble=False: one model, one calibrator
            [calibrator] = calibrated.calibrators
            model, temperature, half = calibrated.estimator, float(calibrator.beta_), 1.0
        coef, intercept = model.coef_, model.intercept_
    except (AttributeError, KeyError, ValueError) as error:
        raise ModelError(f"cannot export this pipeline to runtime arrays: {error}") from None
    if features.transformer_weights is not None:
        raise ModelError("cannot export this pipeline to runtime arrays: its feature blocks are weighted")
    if len(coef) == 1:
        # Two labels: one score d for the second. Uncalibrated, scikit-learn gives sigmoid(d), which is the
        # softmax of (-d/2, d/2); temperature scaling takes the softmax of t * (-d, d).
        coef, intercept = np.vstack([-coef, coef]) * half, np.hstack([-intercept, intercept]) * half
    return runtime.LinearModel(tuple(str(label) for label in pipeline.classes_), blocks,
                               np.ascontiguousarray(coef), np.array(intercept, dtype=np.float64), temperature)


def _runtime_block(step) -> runtime.NgramBlock | runtime.LexiconBlock:
    if isinstance(step, SentimentLexicon):
        return runtime.LexiconBlock(step.vocabulary_.copy(), step.valences_.copy())
    counts, tfidf = step.named_steps["counts"], step.named_steps["tfidf"]
    if not (tfidf.sublinear_tf and tfidf.norm == "l2" and tfidf.use_idf):
        raise ModelError("cannot export this pipeline to runtime arrays: TF-IDF must be sublinear, l2, with idf")
    return runtime.NgramBlock(counts.kind, tuple(counts.ngram_range), counts.vocabulary_, counts.table_bits_,
                              tfidf.idf_.copy())


def check_compatible(manifest: dict, directory: Path) -> None:
    """Refuse an artifact built with another scikit-learn major.minor: its estimators may not load right."""
    built = str(manifest.get("versions", {}).get("scikit-learn", "unknown"))
    installed = sklearn.__version__
    if built.split(".")[:2] != installed.split(".")[:2]:
        raise ModelError(
            f"model at {directory} was built with scikit-learn {built} but {installed} is installed; "
            "retrain it with this version (`make model DATA_ROOT=...` or `inbox-router train`) "
            f"or install scikit-learn=={built}"
        )


def load_pipeline(directory: Path):
    """The fitted pipeline, loaded with an explicit list of trusted types."""
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"no model at {directory}: {MODEL_FILE} is missing")
    try:
        untrusted = sio.get_untrusted_types(file=path)
        unknown = sorted(set(untrusted) - TRUSTED_TYPES)
        if unknown:
            raise ModelError(f"refusing model {path}: it contains types that are not trusted: {', '.join(unknown)}")
        pipeline = sio.load(path, trusted=list(untrusted))
    except ModelError:
        raise
    except Exception as error:  # skops raises many kinds on a corrupt or foreign file
        raise ModelError(f"cannot load model {path}: {type(error).__name__}: {error}") from None
    if not (hasattr(pipeline, "predict_proba") and hasattr(pipeline, "classes_")):
        raise ModelError(f"refusing model {path}: a {type(pipeline).__name__} is not a fitted classifier")
    return pipeline
