# Two commands do all the set-up on a fresh machine:
#   make run    install what the app needs, then start it on the AI Shop demo chain
#   make test   install what the tests need (Debian's Chromium too), then run every test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast browser demo bench clean i18n i18n-check

run: $(VENV)/.app-installed
	$(PY) -m ui.serve --server.port $(PORT)

# The unit and page tests on two workers, a test file each at a time (its module fixtures stay
# shared); then the browser journeys, also on two workers a file at a time: each worker starts the
# servers of its own journeys (on free ports, each on a warehouse of its own), and a journey spends
# most of its time waiting for a page, so two of them share two cores well.
# The slowest tests are listed at the end of each part: the suite must stay under 15 minutes.
test: $(VENV)/.dev-installed browser
	$(PY) -m pytest -m "not browser" -n 2 --dist loadfile --durations=15
	$(PY) -m pytest -m browser -n 2 --dist loadfile --durations=10

# Unit and page tests only, without the browser journeys.
test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -m "not browser" -n 2 --dist loadfile

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.app-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download does not
# work offline). Japanese fonts so that pages and screenshots show 日本語.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# 日本語 / English: extract every marked string into the catalogs (core/i18n/locale) and bring the
# Japanese ones up to date; new messages arrive empty and the check below fails until they are translated.
i18n: $(VENV)/.app-installed
	$(PY) -m core.i18n.catalogs update

i18n-check: $(VENV)/.app-installed
	$(PY) -m core.i18n.catalogs check

demo: $(VENV)/.app-installed
	$(PY) -m core.data.demo

bench: $(VENV)/.app-installed
	$(PY) benchmarks/bench_demo.py

clean:
	rm -rf $(VENV) .pytest_cache data/*.duckdb data/*.duckdb.wal
