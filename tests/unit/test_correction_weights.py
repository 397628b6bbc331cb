"""Corrections fold into training with a weight: read from the export's lines, down to the model and its calibration."""

import json

import numpy as np
import pytest
import sklearn.calibration
from test_classify_model import small_corpus

from router.classify.training.corpus import CORRECTION_WEIGHT, read_labelled
from router.classify.training.train import fit
from router.cli import main

SARCASM = ["great, another 3 hour delay, thanks @airline", "wonderful, my bag is in another city again, thanks",
           "love waiting 2 hours on hold, amazing service", "fantastic, the app lost my booking again, bravo"]


def corrections_file(path, weight: float | None = None) -> None:
    lines = [{"mention_id": f"tw-{n}", "text": text, "label": "complaint", "lang": "en", "provenance": "correction",
              "by": "alice", "at": "2026-11-21T00:00:00Z", "predicted_label": "other", "confidence": 0.57,
              **({"weight": weight} if weight is not None else {})} for n, text in enumerate(SARCASM)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_corrections_weigh_the_correction_weight_unless_they_give_their_own(tmp_path):
    corrections_file(tmp_path / "corrections.jsonl")
    corrections_file(tmp_path / "weighed.jsonl", weight=2.5)
    (tmp_path / "seed.jsonl").write_text(json.dumps({"text": "hello", "label": "other"}) + "\n")
    paths = [tmp_path / "seed.jsonl", tmp_path / "corrections.jsonl", tmp_path / "weighed.jsonl"]

    default, chosen = read_labelled(paths), read_labelled(paths, correction_weight=3)

    assert default.weights == [1.0] + [CORRECTION_WEIGHT] * 4 + [2.5] * 4
    assert chosen.weights == [1.0] + [3.0] * 4 + [2.5] * 4
    assert default.corrections == chosen.corrections == 8
    assert default.sha256() != chosen.sha256()  # another weight trains another model, with another version


@pytest.fixture(scope="module")
def corpus():
    return small_corpus(per_label=15)


def test_a_correction_outweighs_as_many_examples_as_its_weight_through_the_model_and_its_calibration(
        corpus, monkeypatch):
    # The seed says complaint three times; one agent says recruitment: at weight 5 the agent wins.
    text = SARCASM[0]
    texts, labels = [*corpus.texts, text, text, text, text], [*corpus.labels, *["complaint"] * 3, "recruitment"]
    calibrated = []
    calibrate = sklearn.calibration._fit_calibrator

    def spy(*args, **kwargs):
        calibrated.append(kwargs.get("sample_weight"))
        return calibrate(*args, **kwargs)

    monkeypatch.setattr(sklearn.calibration, "_fit_calibrator", spy)

    def predicted(weight: float) -> str:
        return str(fit(texts, labels, np.array([1.0] * (len(texts) - 1) + [weight])).predict([text])[0])

    assert predicted(1.0) == "complaint"
    assert predicted(5.0) == "recruitment"
    assert [list(weights[-2:]) for weights in calibrated] == [[1.0, 1.0], [1.0, 5.0]]  # the temperature too


def test_train_folds_in_an_exported_corrections_file_and_says_so(corpus, tmp_path, capsys):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("".join(json.dumps({"text": text, "label": label, "lang": "en"}) + "\n"
                            for text, label in zip(corpus.texts, corpus.labels)))
    corrections_file(tmp_path / "corrections.jsonl")

    code = main(["train", "--data", str(seed), "--data", str(tmp_path / "corrections.jsonl"),
                 "--correction-weight", "4", "--out", str(tmp_path / "model")])

    assert code == 0
    assert "of which 4 agents' corrections, each weighing 4" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["training_data"]["files"] == ["seed.jsonl", "corrections.jsonl"]
    assert manifest["training_data"]["n"] == len(corpus) + 4


@pytest.mark.parametrize("weight", ["0", "101", "heavy"])
def test_a_correction_weight_out_of_range_is_refused(weight, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--data", "x.jsonl", "--out", "y", "--correction-weight", weight])
    assert "--correction-weight" in capsys.readouterr().err
