"""The careful stage: which fast labels it looks at again, its model, and the cascade of both stages."""
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from router.classify import encoder
from router.classify.careful import MANIFEST_FILE, WEIGHTS_FILE, CarefulModel, Cascade, for_config, takes_careful
from router.classify.labels import CAREFUL_STAGE, FAST_STAGE, LABELS, Classification
from router.classify.model import Classifier
from router.errors import ModelError
from router.rules import load_config
from router.settings import get_settings


def test_unsure_labels_take_the_careful_stage_when_the_config_asks():
    unsure, sure = Classification.forced("complaint", 0.55), Classification.forced("complaint", 0.95)
    assert takes_careful(unsure, 0.8) and not takes_careful(sure, 0.8)
    assert not takes_careful(unsure, None)


def test_doubted_labels_go_to_triage_without_the_careful_stage():
    doubted = Classification("other", 0.3, {"other": 0.3}, "es", "unsupported_language")
    assert not takes_careful(doubted, 0.8)


CONFIG = Path(__file__).resolve().parents[2] / "config" / "router.yaml"


class FastDouble:
    """Labels each text as the table says."""

    version, threshold = "fast-1", 0.5

    def __init__(self, table: dict[str, Classification]) -> None:
        self.table = table

    def classify(self, texts, langs=None):
        return [self.table[text] for text in texts]


class CarefulDouble:
    """Says `other` at 0.9 for every text it is given; records each batch."""

    version = "careful-1"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def classify(self, texts, fast):
        self.batches.append(list(texts))
        return [Classification("other", 0.9, {"other": 0.9}, c.lang, c.doubt, CAREFUL_STAGE) for c in fast]


def _artifact(directory: Path, coef: np.ndarray, dimension: int = 384) -> Path:
    directory.mkdir()
    manifest = {"version": "careful-test", "labels": list(LABELS), "fast_labels": list(LABELS),
                "dimension": dimension, "temperature": 1.0}
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))
    np.savez(directory / WEIGHTS_FILE, coef=coef, intercept=np.zeros(len(LABELS)))
    return directory


def test_the_cascade_looks_again_at_unsure_labels_only_in_one_batch():
    unsure = Classification.forced("complaint", 0.4, "en")
    doubted = Classification("other", 0.3, {"other": 0.3}, "es", "unsupported_language")
    fast = FastDouble({"a": unsure, "b": Classification.forced("sales_lead", 0.95), "c": doubted, "d": unsure})
    careful = CarefulDouble()
    cascade = Cascade(fast, careful, 0.6)  # type: ignore[arg-type]
    labelled = cascade.classify(["a", "b", "c", "d"])
    assert careful.batches == [["a", "d"]]
    assert [c.stage for c in labelled] == [CAREFUL_STAGE, FAST_STAGE, FAST_STAGE, CAREFUL_STAGE]
    assert labelled[0].label == "other" and labelled[0].lang == "en"
    assert labelled[2] is doubted
    assert cascade.version == "fast-1+careful-1" and cascade.threshold == 0.5


def test_the_cascade_reports_both_stages():
    fast = FastDouble({"a": Classification.forced("complaint", 0.4)})
    before, after = Cascade(fast, CarefulDouble(), 0.6).stages(["a"])  # type: ignore[arg-type]
    assert (before[0].label, before[0].stage) == ("complaint", FAST_STAGE)
    assert (after[0].label, after[0].stage) == ("other", CAREFUL_STAGE)


def test_a_config_without_careful_below_keeps_the_fast_classifier():
    fast = FastDouble({})
    plain = SimpleNamespace(careful_below=None)  # all for_config reads of a config
    assert for_config(fast, plain) is fast  # type: ignore[arg-type]
    assert for_config(Cascade(fast, CarefulDouble(), 0.6), plain) is fast  # type: ignore[arg-type]


def test_a_cascade_follows_the_config_it_is_given():
    fast = FastDouble({})
    cascade = for_config(Cascade(fast, CarefulDouble(), 0.6), SimpleNamespace(careful_below=0.7))  # type: ignore[arg-type]
    assert isinstance(cascade, Cascade) and cascade.fast is fast and cascade.below == 0.7


def test_the_careful_model_keeps_the_fast_labels_language_and_doubt(tmp_path):
    coef = np.hstack([np.zeros((len(LABELS), 384)), np.eye(len(LABELS))])  # reads the fast scores alone
    model = CarefulModel.load(_artifact(tmp_path / "m", coef))
    fast = [Classification.forced("complaint", 0.45, "fr"), Classification.forced("other", 0.45, "en")]
    labelled = model.classify(["le vol est en retard", "hello"], fast)
    assert [c.stage for c in labelled] == [CAREFUL_STAGE, CAREFUL_STAGE]
    assert [c.lang for c in labelled] == ["fr", "en"]
    assert [c.label for c in labelled] == ["complaint", "other"]
    assert labelled[0].scores == pytest.approx(fast[0].scores)


def test_a_careful_model_whose_weights_do_not_fit_its_manifest_is_refused(tmp_path):
    with pytest.raises(ModelError, match="weights of shape"):
        CarefulModel.load(_artifact(tmp_path / "m", np.zeros((len(LABELS), 10))))
    with pytest.raises(ModelError, match="cannot load the careful model"):
        CarefulModel.load(tmp_path / "missing")
    odd = _artifact(tmp_path / "odd", np.zeros((len(LABELS), 384 + len(LABELS))))
    manifest = json.loads((odd / MANIFEST_FILE).read_text())
    (odd / MANIFEST_FILE).write_text(json.dumps({**manifest, "labels": [*LABELS[:-1], "spam"]}))
    with pytest.raises(ModelError, match="unknown labels: \\['spam'\\]"):
        CarefulModel.load(odd)
    (odd / MANIFEST_FILE).write_text(json.dumps({"version": "x"}))
    with pytest.raises(ModelError, match="its manifest needs"):
        CarefulModel.load(odd)


def test_the_fast_path_never_imports_the_encoder(tmp_path):
    fast_only = tmp_path / "router.yaml"
    fast_only.write_text("".join(line for line in CONFIG.read_text().splitlines(keepends=True)
                                 if not line.startswith("careful_below:")))
    script = ("import sys; from router.classify.careful import for_config; from router.classify.model import "
              "Classifier; from router.rules import load_config; "
              f"c = load_config({str(fast_only)!r}); f = for_config(Classifier.load(), c); f.classify(['late again']); "
              "print(c.careful_below, 'router.classify.encoder' in sys.modules, 'tokenizers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False", "False"]


def test_a_config_with_careful_below_brings_the_shipped_careful_model():
    cascade = for_config(FastDouble({}), load_config(CONFIG))  # type: ignore[arg-type]
    assert isinstance(cascade, Cascade) and cascade.below == load_config(CONFIG).careful_below
    assert cascade.careful.manifest["encoder"]["sha256"] == encoder.WEIGHTS_SHA256
    assert cascade.careful.fast_labels == Classifier.load().labels


def test_inbox_careful_model_dir_names_another_careful_model(tmp_path, monkeypatch):
    coef = np.hstack([np.zeros((len(LABELS), 384)), np.eye(len(LABELS))])
    monkeypatch.setenv("INBOX_CAREFUL_MODEL_DIR", str(_artifact(tmp_path / "m", coef)))
    get_settings.cache_clear()  # the settings are read once; read them again with the variable set
    try:
        assert CarefulModel.load().version == "careful-test"
    finally:
        get_settings.cache_clear()


def test_a_careful_label_does_not_depend_on_its_batch():
    model = CarefulModel.load()
    vectors = np.random.default_rng(7).normal(size=(64, model.manifest["dimension"])).astype(np.float32)
    fast = Classifier.load().classify([f"order {n} never arrived, I want a refund" for n in range(64)])
    together = model.probabilities(vectors, fast)
    alone = np.vstack([model.probabilities(vectors[i:i + 1], fast[i:i + 1]) for i in range(64)])
    assert np.array_equal(together, alone)
