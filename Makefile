# Single entry point. `make run` = demo on embedded defaults; `make test` = the whole suite on PostgreSQL + Redis.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test audit lint format venv demo-data bench-small clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

demo-data: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_sla_checks
	$(BIN)/python manage.py date_demo_detections
	$(BIN)/python manage.py refresh_summaries

run: demo-data
	PORT=$(PORT) bash scripts/run_demo.sh

test: venv
	bash scripts/run_tests.sh

# bandit on our code and pip-audit on the installed packages (scripts/security_audit.py says what fails).
audit: venv
	$(BIN)/python scripts/security_audit.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data/db.sqlite3* data/broker data/celerybeat-schedule* data/staticfiles
