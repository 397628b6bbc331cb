"""Saving and loading a fitted pipeline with skops (never pickle), and its manifest."""

import json
import platform
import zipfile
from pathlib import Path

import sklearn
import skops
import skops.io as sio

from router.errors import ModelError

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"

# Types the loader accepts beyond skops' own defaults. Anything else in an artifact is
# refused: a skops file can name arbitrary callables, and the artifact may come from
# outside the repo (`--model DIR`, INBOX_MODEL_DIR).
TRUSTED_TYPES = frozenset(
    {
        "router.classify.features.NgramCounter",
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
    """Write the skops file and the manifest into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, directory / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    (directory / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")


def read_manifest(directory: Path) -> dict:
    """The manifest, or a ModelError saying what is missing."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(f"no model at {directory}: {MANIFEST_FILE} is missing (train one with `inbox-router train`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"unreadable manifest {path}: {error}") from None


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
