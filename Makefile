# `make run` serves the app on the embedded tier; `make test` runs the test suite.
PYTHON ?= python3
PIP := $(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install install-test run test bench space

install:
	$(PIP) -r requirements.txt

install-test: install
	$(PIP) -r requirements-test.txt
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } \
	  || echo "Debian's chromium is not installed: the browser test will be skipped"

run: install
	ANOMALY_HUB_TIER=$${ANOMALY_HUB_TIER:-embedded} GRADIO_SERVER_NAME=$(HOST) GRADIO_SERVER_PORT=$(PORT) $(PYTHON) app.py

test: install-test
	$(PYTHON) -m pytest

bench: install
	$(PYTHON) -m benchmarks.foundation

# Assemble a deployable Hugging Face Space folder: make space DIR=/tmp/my-space
space:
	@test -n "$(DIR)" || (echo "usage: make space DIR=/path/to/space" && exit 2)
	mkdir -p "$(DIR)"
	cp -r app.py hub methods leaderboard examples requirements.txt "$(DIR)/"
	cp spaces_config/README.md "$(DIR)/README.md"
	find "$(DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "Space assembled in $(DIR): push it to a Gradio Space repo"
