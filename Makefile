# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run    venv + packages (+ chromium, CJK fonts when root), demo data if absent, start the app
#   make test   the same set-up, then ruff and every test (unit, CLI, AppTest, browser)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# make run ADDRESS=0.0.0.0 to serve the network (default: this machine only)
ADDRESS ?= 127.0.0.1
# chromium: kaleido chart export and browser tests; fonts-noto-cjk: Chinese glyphs;
# poppler-utils: PDF pages to PNG for looking; pango/harfbuzz: WeasyPrint's PDF report
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

.PHONY: run test setup system venv demo lint bench clean

run: setup demo
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS) --server.headless true

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

setup: system venv

# Debian packages the exports and browser tests need (only when root and missing).
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpangoft2-1.0-0"; \
	ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "warning: missing Debian packages:$$missing (run as root or: sudo apt-get install$$missing)"; \
	  fi; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

demo: venv
	@if [ ! -d "$${RRTT_DATA_DIR:-data}/log/events" ] && [ ! -f "$${RRTT_DATA_DIR:-data}/manifest.json" ]; then $(PY) -m metrics demo; fi

lint: venv
	$(VENV)/bin/ruff check .

# SCALE=county|province|nation; synthetic data is cached in ~/.cache/rrtt-bench (RRTT_BENCH_CACHE)
SCALE ?= province
bench: venv
	$(PY) -m metrics bench --scale $(SCALE)

clean:
	rm -rf data/log data/shards data/cache data/legacy data/.publish.lock \
	       data/snapshots data/rollups data/manifest.json tests/artifacts
