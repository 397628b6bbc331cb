"""Training, the skops artifact and its manifest, and the shipped model on a fixed bilingual check set."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from router.classify import artifact
from router.classify.labels import LABELS, Classification
from router.classify.model import CHUNK_CHARACTERS, Classifier, default_model_dir
from router.classify.runtime import load
from router.classify.training.corpus import Labelled, read_labelled
from router.classify.training.train import train
from router.errors import ModelError
from router.settings import get_settings

SEED = Path(__file__).resolve().parents[2] / "models" / "corpus" / "seed.jsonl"


def small_corpus(per_label: int = 40) -> Labelled:
    """Every 4th seed example, at most `per_label` a label, in both languages, with their batches."""
    full = read_labelled([SEED])
    taken: dict[str, int] = {}
    texts, labels, groups = [], [], []
    for index, (text, label, group) in enumerate(zip(full.texts, full.labels, full.groups or [])):
        if index % 4 == 0 and taken.get(label, 0) < per_label:
            taken[label] = taken.get(label, 0) + 1
            texts.append(text)
            labels.append(label)
            groups.append(group)
    return Labelled(texts, labels, groups=groups)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    train(small_corpus(), out, sources=["seed.jsonl"])
    return out


PROBES = ["@SkyLineAir my bag is lost and nobody calls back", "are you hiring summer interns?", "merci beaucoup!"]


def test_training_is_deterministic(trained, tmp_path):
    train(small_corpus(), tmp_path, sources=["seed.jsonl"])
    first, second = Classifier.load(trained), Classifier.load(tmp_path)
    assert np.array_equal(first.probabilities(PROBES), second.probabilities(PROBES))
    assert first.version == second.version


def test_a_trained_model_survives_save_and_load(trained, tmp_path):
    classifier = Classifier.load(trained)
    before = classifier.probabilities(PROBES)
    artifact.save(artifact.load_pipeline(trained), classifier.manifest, tmp_path)
    after = Classifier.load(tmp_path).probabilities(PROBES)
    assert np.array_equal(before, after)


@pytest.mark.parametrize("model_dir", ["trained", "shipped"])
def test_the_runtime_arrays_compute_what_the_pipeline_computes(model_dir, trained):
    directory = trained if model_dir == "trained" else default_model_dir()
    texts = [*PROBES, *(text for text, _ in CHECK_SET), "", "😡" * 30, "x" * 5000]
    expected = artifact.load_pipeline(directory).predict_proba(texts)
    assert np.allclose(Classifier.load(directory).probabilities(texts), expected, rtol=0, atol=1e-12)


def test_a_texts_probabilities_do_not_depend_on_its_batch():
    """Bit for bit: the worker and a replay batch the same mentions differently, and must decide alike."""
    classifier = Classifier.load()
    texts = [*PROBES, *(text for text, _ in CHECK_SET), *(f"order {n} never came, refund me" for n in range(60))]
    together = classifier.probabilities(texts)
    assert np.array_equal(together, np.vstack([classifier.probabilities([text]) for text in texts]))
    assert np.array_equal(together, classifier.probabilities(texts[::-1])[::-1])


@pytest.mark.parametrize("texts", [[""], ["a"], ["ab", ""], ["\n\n"]], ids=repr)
def test_a_batch_shorter_than_the_longest_ngram_computes_what_the_pipeline_computes(texts):
    expected = artifact.load_pipeline(default_model_dir()).predict_proba(texts)
    assert np.allclose(Classifier.load().probabilities(texts), expected, rtol=0, atol=1e-12)


def test_a_two_label_model_computes_what_its_pipeline_computes(tmp_path):
    corpus = small_corpus()
    pairs = [(text, label) for text, label in zip(corpus.texts, corpus.labels) if label in ("complaint", "other")]
    train(Labelled([text for text, _ in pairs], [label for _, label in pairs]), tmp_path, sources=["seed.jsonl"])
    expected = artifact.load_pipeline(tmp_path).predict_proba(PROBES)
    assert np.allclose(Classifier.load(tmp_path).probabilities(PROBES), expected, rtol=0, atol=1e-12)


def _copy_manifest_without_hash(trained, directory) -> None:
    """A manifest that names no runtime file, as models saved before the hash was recorded."""
    manifest = json.loads((trained / "manifest.json").read_text())
    del manifest["runtime_sha256"]
    (directory / "manifest.json").write_text(json.dumps(manifest))


def test_runtime_arrays_other_than_the_manifest_names_are_refused(trained, tmp_path):
    (tmp_path / "manifest.json").write_bytes((trained / "manifest.json").read_bytes())
    np.savez(tmp_path / "runtime.npz", format=2)
    with pytest.raises(ModelError, match="runtime.npz does not match its manifest: runtime_sha256 is"):
        Classifier.load(tmp_path)


def test_a_manifest_names_the_runtime_file_it_was_saved_with(trained):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["runtime_sha256"] == hashlib.sha256((trained / "runtime.npz").read_bytes()).hexdigest()


def test_runtime_arrays_that_would_need_pickle_are_refused(trained, tmp_path):
    _copy_manifest_without_hash(trained, tmp_path)
    np.savez(tmp_path / "runtime.npz", format=np.array([{"exec": "anything"}], dtype=object))
    with pytest.raises(ModelError, match="cannot load model .*runtime.npz"):
        Classifier.load(tmp_path)


def test_runtime_arrays_of_another_format_are_refused(trained, tmp_path):
    _copy_manifest_without_hash(trained, tmp_path)
    np.savez(tmp_path / "runtime.npz", format=99)
    with pytest.raises(ModelError, match="format 99; this version reads 1"):
        Classifier.load(tmp_path)


def test_the_runtime_needs_no_scikit_learn():
    code = ("import sys; from router.classify.model import Classifier; Classifier.load().classify(['hi']); "
            "print(sorted(m for m in ('sklearn', 'skops') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_manifest_records_what_the_issue_asks(trained):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["labels"] == sorted(LABELS)
    assert set(manifest["versions"]) == {"scikit-learn", "skops", "python"}
    assert len(manifest["training_data"]["sha256"]) == 64
    # The version's suffix hashes the pipeline and the data: the same data through another pipeline is another model.
    named = hashlib.sha256(f"{manifest['pipeline']}\n{manifest['training_data']['sha256']}".encode()).hexdigest()
    assert manifest["version"].startswith("mention-clf-") and manifest["version"].endswith(named[:8])
    assert sum(manifest["training_data"]["per_label"].values()) == manifest["training_data"]["n"]
    assert 0.5 <= manifest["threshold"] <= 0.8
    assert {"macro_f1", "accuracy", "per_label"} <= manifest["metrics"]["holdout"].keys()
    # Calibrated on the seed batches held out whole, not on stratified folds: see test_calibration.py.
    recorded = manifest["calibration"]
    assert recorded["method"].startswith("temperature, fitted on each seed batch held out")
    assert recorded["held_out_examples"] == manifest["training_data"]["n"]  # every example has its batch
    assert load(trained).temperature == pytest.approx(recorded["temperature"])
    assert recorded["temperature"] != pytest.approx(recorded["temperature_stratified_folds"])


def test_classify_returns_probabilities_for_every_label(trained):
    classifier = Classifier.load(trained)
    results = classifier.classify(PROBES)
    assert len(results) == 3 and all(isinstance(r, Classification) for r in results)
    for result in results:
        assert set(result.scores) == set(LABELS)
        assert sum(result.scores.values()) == pytest.approx(1.0)
        assert result.confidence == max(result.scores.values())
        assert result.scores[result.label] == result.confidence
    assert classifier.classify([]) == []


def test_an_artifact_from_another_scikit_learn_is_refused(trained, tmp_path):
    for name in ("model.skops", "manifest.json"):
        (tmp_path / name).write_bytes((trained / name).read_bytes())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"built with scikit-learn 0\.24\.2 but .* installed; retrain"):
        artifact.check_compatible(artifact.read_manifest(tmp_path), tmp_path)


def test_an_artifact_with_untrusted_types_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    # skops trusts numpy ufuncs by default; an arbitrary Python function it does not.
    sio.dump(FunctionTransformer(func=json.dumps), tmp_path / "model.skops")
    (tmp_path / "manifest.json").write_text(json.dumps({"versions": artifact.versions()}))
    with pytest.raises(ModelError, match="not trusted"):
        artifact.load_pipeline(tmp_path)


def test_an_artifact_that_is_not_a_classifier_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    sio.dump(StandardScaler(), tmp_path / "model.skops")
    (tmp_path / "manifest.json").write_text(json.dumps({"versions": artifact.versions()}))
    with pytest.raises(ModelError, match="not a fitted classifier"):
        artifact.load_pipeline(tmp_path)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="manifest.json is missing"):
        Classifier.load(tmp_path)


def test_default_model_dir_can_be_overridden(monkeypatch, tmp_path):
    assert default_model_dir().parts[-2:] == ("models", "mention-classifier")
    monkeypatch.setenv("INBOX_MODEL_DIR", str(tmp_path))
    get_settings.cache_clear()  # the settings are read once; read them again with the variable set
    try:
        assert default_model_dir() == tmp_path
    finally:
        get_settings.cache_clear()


# Written for this test, not taken from the training data: each label in each language.
CHECK_SET = [
    ("@RiverAir two hours on the tarmac and now my connection is gone. worst airline", "complaint"),
    ("@CableCo my internet has been down for 3 days and nobody came to fix it", "complaint"),
    ("@CableCo je paie la fibre et j'ai pas internet depuis une semaine, c'est inadmissible", "complaint"),
    ("Chambre sale, personnel désagréable et petit-déjeuner froid. Très déçus de notre séjour.", "complaint"),
    ("@RiverAir how much is a return ticket to Rome in June for 2 adults? ready to book", "sales_lead"),
    ("Do you have a room for 3 nights from July 4? Please send me a quote", "sales_lead"),
    ("Avez-vous une chambre libre pour deux nuits le 14 juillet? Je voudrais réserver", "sales_lead"),
    ("@CableCo combien coûte le forfait famille avec 3 lignes? je veux m'abonner", "sales_lead"),
    ("@RiverAir are you hiring flight attendants? where do I send my resume?", "recruitment"),
    ("Looking for a summer internship in your marketing team, how do I apply?", "recruitment"),
    ("Bonjour, vous embauchez pour l'été? Je cherche un emploi de serveuse", "recruitment"),
    ("@CableCo avez-vous des stages en informatique? J'aimerais postuler", "recruitment"),
    ("Dozens of customers hospitalized after eating at your restaurant, health inspectors on site. #boycott",
     "pr_crisis"),
    ("I'm a journalist with the Herald, can your press office comment on the data breach allegations?", "pr_crisis"),
    ("Des enfants intoxiqués par votre jus contaminé, rappel immédiat! Partagez #boycott", "pr_crisis"),
    ("Je suis journaliste à La Presse, votre porte-parole peut-il commenter le scandale?", "pr_crisis"),
    ("Thank you @RiverAir, lovely crew and a smooth landing!", "other"),
    ("What time does the pool open in the morning?", "other"),
    ("Merci à toute l'équipe pour ce superbe séjour, on reviendra!", "other"),
    ("@CableCo à quelle heure ferme la boutique le samedi?", "other"),
]


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load()


def test_the_shipped_model_knows_every_label():
    classifier = Classifier.load()
    assert set(classifier.labels) == set(LABELS)
    assert classifier.version.startswith("mention-clf-")


@pytest.mark.parametrize(("text", "label"), CHECK_SET)
def test_the_shipped_model_gets_the_check_set_right(shipped, text, label):
    assert shipped.classify([text])[0].label == label


def test_long_texts_are_classified_in_chunks_with_the_same_results():
    classifier = Classifier.load()
    texts = ["refund my cancelled flight " * 3000, "are you hiring cooks?", "price of a suite " * 4000, "hello"]
    assert sum(map(len, texts)) > CHUNK_CHARACTERS  # more than one chunk
    together = classifier.probabilities(texts)
    alone = np.vstack([classifier.probabilities([text]) for text in texts])
    np.testing.assert_allclose(together, alone)
