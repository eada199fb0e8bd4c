# Two commands matter: `make run` and `make test`. Everything else is a step they call.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Chromium from Debian drives the browser tests; playwright never downloads its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test install install-dev translations db demo serve extract-messages clean prod-check bench

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

db: translations
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load

serve:
	$(FLASK) run --host $(HOST) --port $(PORT)

run: demo
	@$(FLASK) demo logins
	$(FLASK) run --host $(HOST) --port $(PORT)

# lint-imports: the import contracts in .importlinter (layers, no cycles, a pure core).
test: install-dev translations
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-auto} --dist loadgroup $(PYTEST_ARGS)

# The production check on one machine (docs/operations.md, "The production check"): two
# gunicorn processes, Celery workers and beat on RabbitMQ, PostgreSQL, Redis, SMTP, SMS and
# Stripe peers; a payment, the nightly run with a worker killed, a backup restored.
prod-check: install-dev translations
	$(BIN)/python -m tests.prodcheck

# Benchmarks (bench/README.md), short defaults: each prints its ratios measured side by side.
# PostgreSQL at 127.0.0.1 (scratch databases are created and dropped); wrk for the page benches.
bench: install-dev translations
	$(BIN)/python bench/history.py --accounts 2000 --rounds 2 --requests 100
	$(BIN)/python bench/nightly.py --processes 2 --accounts 5000 --rounds 2
	$(BIN)/python bench/import_feed.py $${BENCH_IMPORT_ROWS:-20000}
	$(BIN)/python bench/webhooks.py $${BENCH_WEBHOOK_PAYMENTS:-500} --clients $${BENCH_CLIENTS:-4}
	$(BIN)/python bench/audit.py --cardholders 60 --rounds 2
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/staff_lists.py
	$(BIN)/python bench/promises_pause.py --accounts 2000 --rounds 2

# For developers: refresh the catalogues after changing visible strings.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations

clean:
	rm -rf $(VENV) instance

