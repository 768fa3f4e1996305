# Baoxue: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# npm ci empties node_modules first, so the stamp inside it goes with it.
NODE_STAMP := node_modules/.installed

.PHONY: install demo test test-fast serve clean bench layout

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 (Python 3.11 is required)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# bpmn-js (served to browsers by api/vendor.py) and bpmn-auto-layout (make layout), as locked;
# then the process editor's lint bundle (web/editor-lint.mjs -> api/static/editor/build/, git-ignored).
$(NODE_STAMP): package-lock.json web/editor-lint.mjs
	@command -v npm >/dev/null 2>&1 || { echo "需要 Node.js 20 与 npm (Node.js 20 and npm are required)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build:editor
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Diagram layout (BPMNDI) of every process file: docs/processes.md "The drawing".
layout: $(NODE_STAMP)
	node processes/layout/layout.mjs processes/*.bpmn

demo: install
	mkdir -p var
	$(VENV)/bin/baoxue init --demo
	$(VENV)/bin/baoxue serve

test: install
	$(PY) -m pytest -n 2 --dist loadfile

test-fast: install
	$(PY) -m pytest -x -q

bench: install
	$(PY) bench/engine_step.py

clean:
	rm -rf $(VENV) node_modules var/*.db
