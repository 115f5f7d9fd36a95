# Two targets other tools rely on: `make run` starts the bot, `make test` runs every test.
# Both create .venv (python3 -m venv) and install the project into it on first use.

VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

# PyThaiNLP must never try to download anything (the machines are offline).
export PYTHAINLP_OFFLINE := 1
export PYTHAINLP_READ_ONLY := 1

.PHONY: run test lint format bench install clean

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED)
	$(VENV)/bin/smartcity-bot serve --host 127.0.0.1 --port 8000

test: $(INSTALLED)
	$(VENV)/bin/ruff check bot tests bench
	$(VENV)/bin/ruff format --check bot tests bench
	$(PYTHON) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check bot tests bench

format: $(INSTALLED)
	$(VENV)/bin/ruff format bot tests bench
	$(VENV)/bin/ruff check --fix bot tests bench

bench: $(INSTALLED)
	$(PYTHON) bench/speed.py
	$(PYTHON) bench/truevoice.py
	$(PYTHON) bench/webhook_load.py

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache
